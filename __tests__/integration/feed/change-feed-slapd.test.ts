import ldap from 'ldapjs';
import { standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import type { FeedSearch } from '../../../lib/feed/change-feed';
import { isCsn, newChanges, positionAfter, type FeedPosition } from '../../../lib/feed/feed-position';
import { TimestampChangeFeed } from '../../../lib/feed/timestamp-change-feed';
import type { DirectorySession } from '../../../lib/ldap/directory';
import { LdaptsDirectory } from '../../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../../lib/logger';
import { SETTING_DEFAULTS } from '../../../lib/settings';
import { syncConfiguration } from '../../../lib/sync/sync-configuration';
import { ldapSettings } from '../../helpers/host';
import { modify, withAdmin } from '../../helpers/ldap-admin';

// The timestamp-polling feed on the real slapd: what a poll returns after ldapmodify, the boundary second,
// group changes, and a directory that went back in time. The feed's consumer is tested in change-feed.test.ts.

const BASE = 'dc=example,dc=org';
const dnOf = (uid: string) => `uid=${uid},ou=people,${BASE}`;
const GROUP = `cn=engineering,ou=groups,${BASE}`;

describe('the timestamp change feed on slapd', () => {
  let slapd: Slapd;
  let session: DirectorySession;
  const feed = new TimestampChangeFeed();
  let search: FeedSearch;

  const asAdmin = <T>(work: (client: ldap.Client) => Promise<T>) => withAdmin(work, slapd.info());

  const replace = (uid: string, type: string, values: string[]) =>
    asAdmin((client) =>
      modify(client, dnOf(uid), [
        new ldap.Change({ operation: 'replace', modification: new ldap.Attribute({ type, values }) }),
      ]),
    );
  /** Waits until the directory's clock shows a later second than `time` (change times have seconds). */
  async function nextSecond(time: string) {
    const deadline = Date.now() + 3000;
    while (new Date().toISOString().replace(/\D/g, '').slice(0, 14) <= time.slice(0, 14)) {
      if (Date.now() > deadline) throw new Error('the clock did not move on');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const uidsOf = (changes: { kind: string; dn: string }[]) =>
    changes.map((change) => `${change.kind}:${change.dn.split(',')[0]}`).sort();

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: standardDirectory() });
    const configuration = syncConfiguration({
      ...SETTING_DEFAULTS,
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
    } as never);
    session = await new LdaptsDirectory(silentLogger).open(configuration.connection);
    search = {
      users: {
        baseDN: `ou=people,${BASE}`,
        scope: 'sub',
        userFilter: '(objectClass=inetOrgPerson)',
        identifierAttributes: ['uid', 'entryUUID'],
      },
      groups: { baseDN: `ou=groups,${BASE}`, filter: '(objectClass=groupOfNames)' },
      pageSize: 100,
    };
  });
  afterAll(async () => {
    await session?.close();
    await slapd?.stop();
  });

  it('starts at the directory’s newest change, then reads only what changed since, once', async () => {
    const start = (await feed.start(session, search))!;
    // slapd keeps entryCSN on every entry: the feed orders by it (microseconds).
    expect(isCsn(start.watermark)).toBe(true);
    expect(start.appliedAtWatermark.length).toBeGreaterThan(0);
    // Untouched: the boundary second is read again, and nothing in it is new.
    const idle = await feed.read(session, search, start);
    expect(idle.restored).toBe(false);
    expect(newChanges(idle.changes, start)).toEqual([]);

    await nextSecond(start.watermark);
    await replace('bob', 'departmentNumber', ['sales']);
    const read = await feed.read(session, search, start);
    const fresh = newChanges(read.changes, start);
    expect(uidsOf(fresh)).toEqual(['user:uid=bob']);
    const bob = fresh[0]!;
    expect(bob.kind === 'user' && bob.entry.attributes.get('uid')?.values).toEqual(['bob']);
    const after = positionAfter(fresh, start)!;
    expect(after.watermark > start.watermark).toBe(true);
    expect(newChanges((await feed.read(session, search, after)).changes, after)).toEqual([]);

    // A second change in the watermark's own second is not lost (entryCSN tells it apart).
    await replace('bob', 'departmentNumber', ['eng']);
    const again = newChanges((await feed.read(session, search, after)).changes, after);
    expect(uidsOf(again)).toEqual(['user:uid=bob']);
  });

  it('reports a group whose members changed: the overlay leaves the member’s own change time alone', async () => {
    const start = (await feed.start(session, search))!;
    await nextSecond(start.watermark);
    await asAdmin((client) =>
      modify(client, GROUP, [
        new ldap.Change({
          operation: 'delete',
          modification: new ldap.Attribute({ type: 'member', values: [dnOf('alice')] }),
        }),
      ]),
    );
    const fresh = newChanges((await feed.read(session, search, start)).changes, start);
    expect(uidsOf(fresh)).toEqual(['group:cn=engineering']);
  });

  it('sees an entry renamed within the scope', async () => {
    const start = (await feed.start(session, search))!;
    await asAdmin(
      (client) =>
        new Promise<void>((resolve, reject) =>
          client.modifyDN(dnOf('dave'), `uid=dave-renamed,ou=people,${BASE}`, (error) =>
            error ? reject(error) : resolve(),
          ),
        ),
    );
    const fresh = newChanges((await feed.read(session, search, start)).changes, start);
    expect(uidsOf(fresh)).toEqual(['user:uid=dave-renamed']);
  });

  it('says the directory went back in time when an entry applied at the watermark now shows an older time', async () => {
    const start = (await feed.start(session, search))!;
    // As after a restore from a backup taken before: the feed had applied a change the directory lost.
    const ahead: FeedPosition = {
      watermark: '29991231235959Z',
      appliedAtWatermark: start.appliedAtWatermark.map((key) => key.replace(/@.*$/, '@lost')),
    };
    expect((await feed.read(session, search, ahead)).restored).toBe(true);
    const aheadByCsn: FeedPosition = { ...ahead, watermark: '29991231235959.000000Z#000000#000#000000' };
    expect((await feed.read(session, search, aheadByCsn)).restored).toBe(true);
    // An entry applied at the watermark that is gone (deleted, moved out of scope) is no such sign.
    const gone: FeedPosition = { watermark: start.watermark, appliedAtWatermark: ['no-such-id@x'] };
    expect((await feed.read(session, search, gone)).restored).toBe(false);
  });
});
