import ldap from 'ldapjs';
import { testServers } from '../../../harness/test-servers';
import { bind, modify, rawClient, search, startTls, unbind, withAdmin } from '../../helpers/ldap-admin';

const servers = testServers().ldap;
const people = `ou=people,${servers.baseDN}`;
const everyone = { scope: 'one' as const, filter: '(objectClass=inetOrgPerson)', attributes: ['uid'] };

describe('the private OpenLDAP server', () => {
  it('lets the service account read more than 500 entries with paging', async () => {
    const client = rawClient(servers.url);
    try {
      await bind(client, servers.serviceDN, servers.servicePassword);
      const entries = await search(client, people, { ...everyone, paged: { pageSize: 100 } });
      expect(entries.length).toBeGreaterThan(500);
    } finally {
      await unbind(client);
    }
  });

  it('still caps an account without the lifted limit at the default 500, even when paged', async () => {
    const client = rawClient(servers.url);
    try {
      await bind(client, `cn=limited-reader,ou=services,${servers.baseDN}`, 'limited-secret');
      await expect(search(client, people, { ...everyone, paged: { pageSize: 100 } })).rejects.toThrow(
        /Size Limit Exceeded|status 4/i,
      );
    } finally {
      await unbind(client);
    }
  });

  it('refuses anonymous reads', async () => {
    const client = rawClient(servers.url);
    try {
      await expect(search(client, people, everyone)).rejects.toThrow(/No Such Object/);
    } finally {
      await unbind(client);
    }
  });

  it('speaks ldaps only to clients that trust the per-run CA', async () => {
    const trusting = rawClient(servers.ldapsUrl, { ca: [servers.caCertPem] });
    try {
      await bind(trusting, servers.serviceDN, servers.servicePassword);
    } finally {
      await unbind(trusting);
    }
    const untrusting = rawClient(servers.ldapsUrl, { rejectUnauthorized: true });
    try {
      await expect(bind(untrusting, servers.serviceDN, servers.servicePassword)).rejects.toThrow(
        /self.signed|unable to verify|certificate/i,
      );
    } finally {
      await unbind(untrusting);
    }
  });

  it('upgrades plain connections with StartTLS only when the client trusts the per-run CA', async () => {
    const trusting = rawClient(servers.url);
    try {
      await startTls(trusting, { ca: [servers.caCertPem], servername: 'localhost' });
      await bind(trusting, servers.serviceDN, servers.servicePassword);
    } finally {
      await unbind(trusting);
    }
    const untrusting = rawClient(servers.url);
    try {
      await expect(startTls(untrusting, { rejectUnauthorized: true })).rejects.toThrow(
        /self.signed|unable to verify|certificate/i,
      );
    } finally {
      await unbind(untrusting);
    }
  });

  it('returns precomputed memberOf when asked by name, and keeps it current on online group changes', async () => {
    const memberOf = async (uid: string) =>
      withAdmin(async (client) => {
        const [entry] = await search(client, `uid=${uid},${people}`, {
          scope: 'base',
          attributes: ['memberOf'],
        });
        return entry?.attributes.memberOf ?? [];
      });
    expect(await memberOf('alice')).toEqual([`cn=engineering,ou=groups,${servers.baseDN}`]);

    const sales = `cn=sales,ou=groups,${servers.baseDN}`;
    const dave = `uid=dave,${people}`;
    await withAdmin((client) =>
      modify(client, sales, [
        new ldap.Change({
          operation: 'add',
          modification: new ldap.Attribute({ type: 'member', values: [dave] }),
        }),
      ]),
    );
    try {
      expect(await memberOf('dave')).toEqual([sales]);
    } finally {
      await withAdmin((client) =>
        modify(client, sales, [
          new ldap.Change({
            operation: 'delete',
            modification: new ldap.Attribute({ type: 'member', values: [dave] }),
          }),
        ]),
      );
    }
    expect(await memberOf('dave')).toEqual([]);
  });
});
