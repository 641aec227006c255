import type { AddressInfo } from 'node:net';
import ldap from 'ldapjs';
import { lastPage, type SearchRequest, type SearchResponse } from './ldapjs-server';

export const RANGED_BASE_DN = 'dc=ad,dc=example';
/** Values per range, as Active Directory's MaxValRange (1500 by default; smaller here to need three). */
const RANGE_SIZE = 1000;

/**
 * An in-process LDAP server that answers like Active Directory for what slapd cannot imitate: a large
 * memberOf comes back in ranges (`memberOf;range=0-999`) and the rest only when asked for by range. It
 * holds one person, anonymous reads, and evaluates the filter with ldapjs.
 */
export class RangedDirectory {
  private constructor(
    private readonly server: ldap.Server,
    readonly port: number,
    /** The time limit of each search received, in seconds: what the client asked the server to keep to. */
    readonly timeLimits: number[],
  ) {}

  static async start(uid: string, groups: string[]): Promise<RangedDirectory> {
    const dn = `uid=${uid},ou=people,${RANGED_BASE_DN}`;
    const attributes: Record<string, string[]> = { objectclass: ['person'], uid: [uid], memberof: groups };
    const server = ldap.createServer();
    const timeLimits: number[] = [];
    server.search(RANGED_BASE_DN, (req: SearchRequest, res: SearchResponse, next: () => void) => {
      timeLimits.push((req as unknown as { timeLimit: number }).timeLimit);
      const inScope = req.scopeName === 'base' ? req.dn.toString().toLowerCase() === dn.toLowerCase() : true;
      if (inScope && req.filter.matches(attributes, false)) {
        const sent: Record<string, string[]> = {};
        for (const requested of res.attributes.map((name) => name.toLowerCase())) {
          const range = /^memberof(?:;range=(\d+)-\*)?$/.exec(requested);
          if (range) {
            const start = Number(range[1] ?? 0);
            const end = Math.min(start + RANGE_SIZE, groups.length) - 1;
            const last = end === groups.length - 1;
            sent[`memberof;range=${start}-${last ? '*' : end}`] = groups.slice(start, end + 1);
          } else if (attributes[requested]) {
            sent[requested] = attributes[requested];
          }
        }
        // ldapjs's server sends only the attributes named here: name exactly those sent.
        res.attributes = Object.keys(sent);
        res.send({ dn, attributes: sent });
      }
      res.controls = [lastPage()];
      res.end();
      next();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = (server as unknown as { address(): AddressInfo }).address();
    return new RangedDirectory(server, port, timeLimits);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
