import { randomBytes } from 'node:crypto';
import ldap from 'ldapjs';
import { testServers } from '../../harness/test-servers';
import { LdapConnectionLostError, LdapSizeLimitExceededError, LdapUnavailableError } from '../../lib/errors';
import type {
  Directory,
  DirectoryEntry,
  DirectorySearch,
  DirectorySession,
  LdapConnectionSettings,
} from '../../lib/ldap/directory';
import { equals } from '../../lib/ldap/filter';
import { LdapjsDirectory } from '../../bench/ldapjs-directory';
import { LdaptsDirectory } from '../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../lib/logger';
import { withAdmin } from '../helpers/ldap-admin';
import { RANGED_BASE_DN, RangedDirectory } from '../helpers/ranged-directory';

// The Directory port's contract, on the real slapd, for each LDAP client behind it: what the sync relies
// on whichever client reads the directory (ldapjs today, ldapts next).

const servers = testServers().ldap;
// ldapjs 3 exports its Control class; the DefinitelyTyped declarations (for ldapjs 2) do not list it.
const ManageDsaIt = (ldap as unknown as { Control: new (options: { type: string }) => ldap.Control }).Control;
const PEOPLE = `ou=people,${servers.baseDN}`;
const GUID = Buffer.from('4AQlP4lP0xGaDAMF6CwzAQ==', 'base64');

function settings(
  bind = { dn: servers.serviceDN, password: servers.servicePassword },
): LdapConnectionSettings {
  const url = new URL(servers.url);
  return {
    hosts: [url.hostname],
    port: Number(url.port),
    encryption: 'plain',
    caCertPem: undefined,
    rejectUnauthorized: true,
    connectTimeoutMs: 3000,
    operationTimeoutMs: 5000,
    bind,
  };
}

const everyone = (overrides: Partial<DirectorySearch> = {}): DirectorySearch => ({
  baseDN: PEOPLE,
  scope: 'one',
  filter: { kind: 'configured', text: '(objectClass=inetOrgPerson)' },
  attributes: ['uid'],
  pageSize: 100,
  sizeLimit: 0,
  ...overrides,
});

async function collect(session: DirectorySession, search: DirectorySearch): Promise<DirectoryEntry[]> {
  const entries: DirectoryEntry[] = [];
  await session.search(search, (entry) => entries.push(entry));
  return entries;
}

describe.each([
  ['ldapjs', () => new LdapjsDirectory(silentLogger)],
  ['ldapts', () => new LdaptsDirectory(silentLogger)],
] as [string, () => Directory][])('the Directory port on %s', (_client, makeDirectory) => {
  let directory: Directory;
  let session: DirectorySession;

  beforeEach(async () => {
    directory = makeDirectory();
    session = await directory.open(settings());
  });
  afterEach(() => session.close());

  it('reads an entry with its attribute names lower-cased, each value as text and as the bytes sent', async () => {
    const [entry, ...more] = await collect(
      session,
      everyone({ filter: equals('uid', 'guid-user'), attributes: ['uid', 'objectGUID', 'departmentNumber'] }),
    );
    expect(more).toEqual([]);
    expect(entry!.dn).toBe(`uid=guid-user,${PEOPLE}`);
    expect([...entry!.attributes.keys()].sort()).toEqual(['departmentnumber', 'objectguid', 'uid']);
    expect(entry!.attributes.get('departmentnumber')?.values).toEqual(['guid-dept']);
    expect(entry!.attributes.get('uid')?.buffers).toEqual([Buffer.from('guid-user')]);
    expect(entry!.attributes.get('objectguid')?.buffers).toEqual([GUID]);
    // A binary value is matched by its bytes, never as filter text.
    expect(await collect(session, everyone({ filter: equals('objectGUID', GUID) }))).toHaveLength(1);
  });

  it('pages a search past the server’s 500, one round trip per page, every entry once', async () => {
    const entries = await collect(session, everyone());
    const dns = new Set(entries.map((entry) => entry.dn));
    expect(dns.size).toBe(entries.length);
    expect(entries.length).toBeGreaterThan(500);
    expect(session.stats).toMatchObject({
      entries: entries.length,
      searchRoundTrips: Math.ceil(entries.length / 100),
    });
  });

  it('rejects a search past its size limit, keeping the connection, and returns one that reaches it', async () => {
    await expect(collect(session, everyone({ sizeLimit: 3 }))).rejects.toBeInstanceOf(
      LdapSizeLimitExceededError,
    );
    expect(session.connected).toBe(true);
    expect(
      await collect(session, everyone({ filter: equals('uid', 'guid-user'), sizeLimit: 1 })),
    ).toHaveLength(1);
  });

  it('rejects a search the server ends at its own limit, never handing back part of it as the whole', async () => {
    const limited = await directory.open(
      settings({ dn: `cn=limited-reader,ou=services,${servers.baseDN}`, password: 'limited-secret' }),
    );
    try {
      await expect(collect(limited, everyone())).rejects.toBeInstanceOf(LdapSizeLimitExceededError);
      // With a limit of the client's own above the server's: still no partial answer.
      await expect(collect(limited, everyone({ sizeLimit: 100_000 }))).rejects.toBeInstanceOf(
        LdapSizeLimitExceededError,
      );
    } finally {
      await limited.close();
    }
  });

  it('matches filter metacharacters in values literally', async () => {
    for (const value of ['*', 'guid-user)(uid=*', 'guid-*', '\\2a'])
      expect(await collect(session, everyone({ filter: equals('uid', value) }))).toEqual([]);
    expect(
      await collect(session, everyone({ filter: { kind: 'atLeast', attribute: 'uid', value: 'z' } })),
    ).toEqual([]);
  });

  it('counts a referral the server returns, and goes on without following it', async () => {
    const ou = `ou=contract-${randomBytes(4).toString('hex')},${servers.baseDN}`;
    await withAdmin(async (client) => {
      const add = (dn: string, entry: Record<string, string | string[]>) =>
        new Promise<void>((resolve, reject) => client.add(dn, entry, (e) => (e ? reject(e) : resolve())));
      await add(ou, { objectClass: 'organizationalUnit', ou: ou.slice(3, ou.indexOf(',')) });
      await add(`uid=here,${ou}`, { objectClass: 'inetOrgPerson', uid: 'here', cn: 'Here', sn: 'Here' });
      await add(`ou=elsewhere,${ou}`, {
        objectClass: ['referral', 'extensibleObject'],
        ou: 'elsewhere',
        ref: 'ldap://elsewhere.example/ou=elsewhere,dc=example,dc=org',
      });
    });
    try {
      const entries = await collect(session, everyone({ baseDN: ou, scope: 'sub' }));
      expect(entries.map((entry) => entry.dn)).toEqual([`uid=here,${ou}`]);
      expect(session.stats.references).toBe(1);
    } finally {
      await withAdmin(async (client) => {
        const remove = (dn: string) =>
          new Promise<void>((resolve) =>
            client.del(dn, [new ManageDsaIt({ type: '2.16.840.1.113730.3.4.2' })], () => resolve()),
          );
        await remove(`ou=elsewhere,${ou}`);
        await remove(`uid=here,${ou}`);
        await remove(ou);
      });
      // Gone, referral and all: other tests read the same server.
      expect(
        await collect(
          session,
          everyone({
            baseDN: servers.baseDN,
            scope: 'sub',
            filter: equals('ou', ou.slice(3, ou.indexOf(','))),
          }),
        ),
      ).toEqual([]);
    }
  });

  it('never searches again on a closed connection: it says the connection is gone', async () => {
    await session.close();
    expect(session.connected).toBe(false);
    await expect(collect(session, everyone())).rejects.toBeInstanceOf(LdapConnectionLostError);
    expect(session.stats.entries).toBe(0);
  });

  it.each([
    ['StartTLS', 'tls' as const, () => Number(new URL(servers.url).port)],
    ['ldaps', 'ssl' as const, () => Number(new URL(servers.ldapsUrl).port)],
  ])(
    'reads over %s with the configured CA, and refuses a server it cannot verify',
    async (_, encryption, port) => {
      const secure = await directory.open({
        ...settings(),
        encryption,
        port: port(),
        caCertPem: servers.caCertPem,
      });
      try {
        expect(await collect(secure, everyone({ filter: equals('uid', 'guid-user') }))).toHaveLength(1);
      } finally {
        await secure.close();
      }
      await expect(directory.open({ ...settings(), encryption, port: port() })).rejects.toBeInstanceOf(
        LdapUnavailableError,
      );
    },
  );

  it('refuses to open a session the server does not bind', async () => {
    await expect(
      directory.open(settings({ dn: servers.serviceDN, password: 'not-the-password' })),
    ).rejects.toBeInstanceOf(LdapUnavailableError);
  });

  it('reads an attribute sent in ranges whole, and asks the server to give up when the client would', async () => {
    const groups = Array.from({ length: 2500 }, (_, index) => `cn=g${index},ou=groups,${RANGED_BASE_DN}`);
    const ranged = await RangedDirectory.start('ranger', groups);
    const anonymous = await directory.open({
      ...settings(),
      bind: undefined,
      hosts: ['127.0.0.1'],
      port: ranged.port,
      operationTimeoutMs: 2500,
    });
    try {
      const [entry] = await collect(
        anonymous,
        everyone({
          baseDN: RANGED_BASE_DN,
          scope: 'sub',
          filter: equals('uid', 'ranger'),
          attributes: ['memberOf'],
        }),
      );
      expect(entry!.attributes.get('memberof')?.values).toEqual(groups);
      expect(anonymous.stats.searchRoundTrips).toBe(3);
      // Each search asked the server to stop within the client's own timeout, rounded up to seconds.
      expect(ranged.timeLimits).toEqual([3, 3, 3]);
    } finally {
      await anonymous.close();
      await ranged.close();
    }
  });

  it('hands back an error thrown by its caller as it was', async () => {
    const own = new Error('the caller’s own');
    await expect(
      session.search(everyone(), () => {
        throw own;
      }),
    ).rejects.toBe(own);
  });
});
