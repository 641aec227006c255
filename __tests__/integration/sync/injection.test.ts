import request from 'supertest';
import type { Directory, DirectorySession, LdapConnectionSettings } from '../../../lib/ldap/directory';
import { LdaptsDirectory, toLdaptsFilter } from '../../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../../lib/logger';
import { snapshotDatabase } from '../../helpers/database';
import { withSearch } from '../../helpers/directories';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';

/** The real adapter; records every search as the filter text slapd received and the DNs it answered. */
class RecordingDirectory implements Directory {
  readonly searches: Array<{ filter: string; dns: string[] }> = [];
  private readonly real = new LdaptsDirectory(silentLogger);

  async open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    const session = await this.real.open(settings);
    const searches = this.searches;
    return withSearch(session, async (search, onEntry) => {
      const record = { filter: toLdaptsFilter(search.filter).toString(), dns: [] as string[] };
      searches.push(record);
      await session.search(search, (entry) => {
        record.dns.push(entry.dn);
        onEntry(entry);
      });
    });
  }
}

const INJECTION_UID = '*)(uid=*';
const user = (_id: string, username: string, extra: object = {}) => ({
  _id,
  username,
  active: true,
  ldap: true,
  emails: [{ address: `${_id}@example.org`, verified: true }],
  ...extra,
});

describe('injection', () => {
  let host: TestHost;
  const directory = new RecordingDirectory();
  const sync = (body: unknown) =>
    request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send(body as object);
  const attributesOf = async (id: string) => (await host.models.users.findById(id).lean())?.abacAttributes;

  beforeAll(async () => {
    host = await startTestHost({ directory });
    await host.models.users.create([
      user('u-inject', INJECTION_UID),
      user('u-alice', 'alice'),
      user('u-abc', 'abc'),
      user('u-axc', 'axc'),
      user('u-hexstar', 'renamed', { services: { ldap: { id: '2a', idAttribute: 'uid' } } }),
    ]);
  });
  afterAll(() => host?.close());

  it.each([
    ['ids', { ids: ['u-inject'] }],
    ['emails', { emails: ['u-inject@example.org'] }],
    ['usernames', { usernames: [INJECTION_UID] }],
  ])(
    'a stored username full of filter syntax, found through %s, reads only its own entry',
    async (_, body) => {
      await host.models.users.updateOne({ _id: 'u-inject' }, { $unset: { abacAttributes: 1 } });
      directory.searches.length = 0;
      const response = await sync(body);
      expect(response.status).toBe(200);
      expect(response.body.summary).toMatchObject({ matched: 1, updated: 1 });
      expect(await attributesOf('u-inject')).toEqual([{ key: 'department', values: ['injection-dept'] }]);
      expect(directory.searches).toHaveLength(1);
      expect(directory.searches[0]!.filter).toBe(
        '(&(objectClass=inetOrgPerson)(|(uid=\\2a\\29\\28uid=\\2a)))',
      );
      expect(directory.searches[0]!.dns).toEqual(['cn=Injection User,ou=people,dc=example,dc=org']);
    },
  );

  it('matches an ldapId as raw bytes only: the hex of "*" is no wildcard', async () => {
    directory.searches.length = 0;
    const response = await sync({ ldapIds: ['2A'] });
    expect(response.body.users).toEqual([
      { _id: 'u-hexstar', username: 'renamed', status: 'notFoundInLdap' },
    ]);
    expect(directory.searches.map((search) => search.filter)).toEqual([
      '(&(objectClass=inetOrgPerson)(|(uid=\\2a)))',
    ]);
    expect(directory.searches[0]!.dns).toEqual([]);
  });

  const operators = [{ $ne: null }, { $gt: '' }, { $regex: '.*' }, { $where: 'true' }, { $exists: true }];
  it.each(['usernames', 'ids', 'emails', 'ldapIds'])(
    'refuses MongoDB operators in %s with 400 and writes nothing',
    async (list) => {
      const before = await snapshotDatabase(host.connection);
      for (const operator of operators) {
        for (const body of [
          { [list]: [operator] },
          { [list]: operator },
          { [list]: ['alice'], ...operator },
        ]) {
          const response = await sync(body);
          expect(response.status).toBe(400);
          expect(response.body.error).toBe('error-invalid-body-params');
        }
      }
      expect((await sync({ usernames: ['alice'], dryRun: { $ne: false } })).status).toBe(400);
      expect(await snapshotDatabase(host.connection)).toBe(before);
    },
  );

  it('treats regex metacharacters literally when matching case-insensitively', async () => {
    const probes = ['.*', 'a.c', 'A.C', 'ALIC.', '^alice$|abc', 'a+c', '(?i)abc', '[a-z]+', 'a\\wc'];
    directory.searches.length = 0;
    const response = await sync({
      usernames: probes,
      emails: ['.*@example.org', 'U-ALICE@EXAMPLE.ORG'],
    });
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ matched: 1 });
    expect(response.body.users.map((result: { _id: string }) => result._id)).toEqual(['u-alice']);
    expect(response.body.unmatched).toMatchObject({ usernames: probes, emails: ['.*@example.org'] });
    // The usernames are read ahead, beside MongoDB's read, each one as a literal value; alice, found by her
    // email, is looked up on her own.
    expect(directory.searches.map((search) => search.filter)).toEqual([
      '(&(objectClass=inetOrgPerson)(|(uid=.\\2a)(uid=a.c)(uid=A.C)(uid=ALIC.)(uid=^alice$|abc)(uid=a+c)' +
        '(uid=\\28?i\\29abc)(uid=[a-z]+)(uid=a\\5cwc)))',
      '(&(objectClass=inetOrgPerson)(|(uid=alice)))',
    ]);
    expect(directory.searches[0]!.dns).toEqual([]);
  });
});
