import type { AddressInfo } from 'node:net';
import ldap from 'ldapjs';
import type { LdifEntry } from './ldif';

export interface DemoDirectoryOptions {
  entries: LdifEntry[];
  baseDN: string;
  bindDN: string;
  bindPassword: string;
}

interface StoredEntry {
  dn: string;
  normalisedDN: string;
  attributes: Record<string, string[]>;
}

/**
 * A read-only LDAP server on loopback, built on ldapjs's server API, for `npm start` only. It binds one
 * account, answers searches under one base DN (base / one / sub scope, the filter as ldapjs evaluates it),
 * and sends a final paged-results control so paging clients finish. Its entries carry createTimestamp and
 * modifyTimestamp (the start), so the changed-entries feed can follow it; being read-only, it never
 * changes. It is no substitute for a directory: the tests use OpenLDAP.
 */
export class DemoDirectory {
  private constructor(
    private readonly server: ldap.Server,
    readonly port: number,
  ) {}

  static async start(options: DemoDirectoryOptions, port = 0): Promise<DemoDirectory> {
    // Every entry was created "now": the change times the changed-entries feed starts from.
    const created = generalizedTime(new Date());
    const entries: StoredEntry[] = options.entries.map((entry) => ({
      dn: entry.dn,
      normalisedDN: normaliseDN(entry.dn),
      // ldapjs's server compares lower-cased entry attribute names with the requested names as sent.
      attributes: {
        createtimestamp: [created],
        modifytimestamp: [created],
        ...Object.fromEntries(
          Object.entries(entry.attributes).map(([name, values]) => [name.toLowerCase(), values]),
        ),
      },
    }));
    const server = ldap.createServer();
    const bindDN = normaliseDN(options.bindDN);

    server.bind(options.baseDN, (req: BindRequest, res: Response, next: Next) => {
      if (normaliseDN(req.dn.toString()) !== bindDN || req.credentials !== options.bindPassword)
        return next(new ldap.InvalidCredentialsError() as unknown as Error);
      res.end();
      return next();
    });

    server.search(options.baseDN, (req: SearchRequest, res: SearchResponse, next: Next) => {
      if (normaliseDN(req.connection.ldap.bindDN.toString()) !== bindDN)
        return next(new ldap.InsufficientAccessRightsError() as unknown as Error);
      const base = normaliseDN(req.dn.toString());
      res.attributes = res.attributes.map((name) => name.toLowerCase());
      for (const entry of entries) {
        if (inScope(entry.normalisedDN, base, req.scopeName) && req.filter.matches(entry.attributes, false))
          res.send({ dn: entry.dn, attributes: { ...entry.attributes } });
      }
      res.controls = [new PagedResultsControl({ value: { size: 0, cookie: Buffer.alloc(0) } })];
      res.end();
      return next();
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new DemoDirectory(server, (server as unknown as { address(): AddressInfo }).address().port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** LDAP's GeneralizedTime to the second, as OpenLDAP writes modifyTimestamp: 20261207093000Z. */
function generalizedTime(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
}

function normaliseDN(dn: string): string {
  return dn
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .join(',');
}

function inScope(dn: string, base: string, scope: string): boolean {
  if (scope === 'base') return dn === base;
  if (!dn.endsWith(`,${base}`)) return scope === 'subtree' && dn === base;
  if (scope === 'subtree') return true;
  return !dn.slice(0, -base.length - 1).includes(',');
}

// ldapjs 3 exports its controls; the DefinitelyTyped declarations (written for ldapjs 2) do not list them.
const { PagedResultsControl } = ldap as unknown as { PagedResultsControl: new (options: object) => unknown };

type Next = (error?: Error) => void;
interface Response {
  end(): void;
}
interface BindRequest {
  dn: { toString(): string };
  credentials: string;
}
interface SearchRequest {
  dn: { toString(): string };
  scopeName: string;
  filter: { matches(attributes: Record<string, string[]>, strictAttrCase: boolean): boolean };
  connection: { ldap: { bindDN: { toString(): string } } };
}
interface SearchResponse extends Response {
  send(entry: { dn: string; attributes: Record<string, string[]> }): void;
  controls: unknown[];
  attributes: string[];
}
