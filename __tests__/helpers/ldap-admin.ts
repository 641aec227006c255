import ldap, { type Client, type SearchOptions } from 'ldapjs';
import { testServers } from '../../harness/test-servers';

/**
 * A raw ldapjs client for tests that inspect or change the directory directly (as an independent
 * observer of what the module did). The module itself never uses this.
 */
export interface RawEntry {
  dn: string;
  attributes: Record<string, string[]>;
}

export function rawClient(url: string, tlsOptions?: object): Client {
  const client = ldap.createClient({
    url,
    tlsOptions,
    connectTimeout: 3000,
    timeout: 10000,
    reconnect: false,
  });
  client.on('error', () => undefined);
  return client;
}

export function bind(client: Client, dn: string, password: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.bind(dn, password, (error) => (error ? reject(error) : resolve())),
  );
}

export function startTls(client: Client, tlsOptions: object): Promise<void> {
  return new Promise((resolve, reject) =>
    client.starttls(tlsOptions, [], (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

export function search(client: Client, base: string, options: SearchOptions): Promise<RawEntry[]> {
  return new Promise((resolve, reject) => {
    client.search(base, options, (error, response) => {
      if (error) return reject(error);
      const entries: RawEntry[] = [];
      response.on('searchEntry', (entry) => {
        const attributes: Record<string, string[]> = {};
        for (const attribute of entry.pojo.attributes) attributes[attribute.type] = attribute.values;
        entries.push({ dn: entry.pojo.objectName, attributes });
      });
      response.on('error', reject);
      response.on('end', (result) => {
        if (result && result.status !== 0)
          reject(new Error(`search ended with LDAP status ${result.status}`));
        else resolve(entries);
      });
    });
  });
}

export function modify(client: Client, dn: string, changes: ldap.Change[]): Promise<void> {
  return new Promise((resolve, reject) =>
    client.modify(dn, changes, (error) => (error ? reject(error) : resolve())),
  );
}

export function unbind(client: Client): Promise<void> {
  return new Promise((resolve) => {
    client.unbind(() => resolve());
    client.destroy();
  });
}

/** Runs `work` bound as the admin of `server` (default: the shared test server; a private Slapd's info()). */
export async function withAdmin<T>(
  work: (client: Client) => Promise<T>,
  server: { url: string; adminDN: string; adminPassword: string } = testServers().ldap,
): Promise<T> {
  const client = rawClient(server.url);
  try {
    await bind(client, server.adminDN, server.adminPassword);
    return await work(client);
  } finally {
    await unbind(client);
  }
}

export interface EntryChange {
  dn: string;
  operation: 'replace' | 'add' | 'delete';
  type: string;
  values: string[];
}

/** Changes entries as the admin of a private server (its Slapd.info()): one bind, the changes at once. */
export async function changeAsAdmin(
  server: { url: string; adminDN: string; adminPassword: string },
  changes: readonly EntryChange[],
): Promise<void> {
  const client = rawClient(server.url);
  try {
    await bind(client, server.adminDN, server.adminPassword);
    await Promise.all(
      changes.map(({ dn, operation, type, values }) =>
        modify(client, dn, [
          new ldap.Change({ operation, modification: new ldap.Attribute({ type, values }) }),
        ]),
      ),
    );
  } finally {
    await unbind(client);
  }
}
