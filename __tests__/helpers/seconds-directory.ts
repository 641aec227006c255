import type { AddressInfo } from 'node:net';
import ldap from 'ldapjs';
import { ldapSettings } from './host';
import { lastPage, type SearchRequest, type SearchResponse } from './ldapjs-server';

export const SECONDS_BASE_DN = 'dc=ds,dc=example';

/**
 * An in-process LDAP server that keeps change times as 389-DS and Active Directory do, for what slapd
 * cannot imitate (it keeps an entryCSN on every entry): modifyTimestamp and createTimestamp in whole
 * seconds, no entryCSN. The test sets each change's time, so two changes can share a second. Anonymous
 * reads; filters evaluated by ldapjs (generalized times in one format compare as text).
 */
export class SecondsDirectory {
  private readonly entries = new Map<string, Record<string, string[]>>();

  private constructor(
    private readonly server: ldap.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<SecondsDirectory> {
    const server = ldap.createServer();
    const directory = await new Promise<SecondsDirectory>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () =>
        resolve(
          new SecondsDirectory(server, (server as unknown as { address(): AddressInfo }).address().port),
        ),
      );
    });
    server.search(SECONDS_BASE_DN, (req: SearchRequest, res: SearchResponse, next: () => void) => {
      for (const [dn, attributes] of directory.entries) {
        const inScope =
          req.scopeName === 'base' ? req.dn.toString().toLowerCase() === dn.toLowerCase() : true;
        if (!inScope || !req.filter.matches(attributes, false)) continue;
        const wanted = res.attributes.map((name) => name.toLowerCase());
        const sent = Object.fromEntries(Object.entries(attributes).filter(([name]) => wanted.includes(name)));
        // ldapjs's server sends only the attributes named here: name exactly those sent.
        res.attributes = Object.keys(sent);
        res.send({ dn, attributes: sent });
      }
      res.controls = [lastPage()];
      res.end();
      next();
    });
    return directory;
  }

  /**
   * Adds or rewrites a person, stamped `time` (a generalized time to the second); with no time, the entry
   * shows none, as where the bind account may not read them.
   */
  put(uid: string, attributes: Record<string, string[]>, time?: string): void {
    const dn = `uid=${uid},ou=people,${SECONDS_BASE_DN}`;
    const created = this.entries.get(dn)?.createtimestamp ?? (time ? [time] : undefined);
    this.entries.set(dn, {
      objectclass: ['inetOrgPerson'],
      uid: [uid],
      ...Object.fromEntries(Object.entries(attributes).map(([name, values]) => [name.toLowerCase(), values])),
      ...(created ? { createtimestamp: created } : {}),
      ...(time ? { modifytimestamp: [time] } : {}),
    });
  }

  /** The settings that point a test host at this server, read anonymously, departmentNumber mapped. */
  hostSettings(): Record<string, unknown> {
    return {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: this.port,
      LDAP_Authentication: false,
      LDAP_BaseDN: SECONDS_BASE_DN,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
