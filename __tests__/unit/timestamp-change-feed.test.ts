import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FeedSearch } from '../../lib/feed/change-feed';
import { TimestampChangeFeed } from '../../lib/feed/timestamp-change-feed';
import type { DirectoryAttribute, DirectoryEntry, DirectorySession } from '../../lib/ldap/directory';

// The feed reader's start over a directory too large to hold: it keeps only the newest change time's
// entries, whatever the directory's size. What it reads of slapd is tested in change-feed-slapd.test.ts.

const ENTRIES = 100_000;
const search: FeedSearch = {
  users: {
    baseDN: 'ou=people,dc=example,dc=org',
    scope: 'sub',
    userFilter: '(objectClass=inetOrgPerson)',
    identifierAttributes: ['uid'],
  },
  pageSize: 1000,
};

const attribute = (value: string): DirectoryAttribute => ({ values: [value], buffers: [Buffer.from(value)] });
/** The n-th entry's entryCSN: a thousand entries a second from noon, each at its own microsecond. */
const csnAt = (n: number) => {
  const second = new Date(Date.UTC(2026, 11, 6, 12) + Math.floor(n / 1000) * 1000);
  const time = second.toISOString().slice(0, 19).replace(/\D/g, '');
  return `${time}.${String(n % 1000).padStart(6, '0')}Z#000000#000#000000`;
};

// A collection on demand, so what the reader holds is measured, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const heapAfterCollecting = () => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

/**
 * A session answering every search with `count` generated entries; once it has sent the last, it notes
 * how much the heap holds beyond what it held before the first.
 */
function generatedDirectory(count: number) {
  let held = 0;
  const session: DirectorySession = {
    async search(_search, onEntry) {
      const before = heapAfterCollecting();
      for (let n = 0; n < count; n++) {
        const entry: DirectoryEntry = {
          dn: `uid=user${n},ou=people,dc=example,dc=org`,
          attributes: new Map([
            ['uid', attribute(`user${n}`)],
            ['entryuuid', attribute(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`)],
            ['entrycsn', attribute(csnAt(n))],
            ['modifytimestamp', attribute(csnAt(n).slice(0, 14) + 'Z')],
            ['createtimestamp', attribute('20260101000000Z')],
          ]),
        };
        onEntry(entry);
      }
      held = heapAfterCollecting() - before;
    },
    stats: { searchRoundTrips: 0, entries: 0, references: 0 },
    connected: true,
    keepProcessAlive: () => undefined,
    close: async () => undefined,
  };
  return { session, heldMegabytes: () => held / 2 ** 20 };
}

describe('the timestamp change feed’s start', () => {
  it('finds the newest change of a directory without holding its entries', async () => {
    const directory = generatedDirectory(ENTRIES);
    const position = await new TimestampChangeFeed().start(directory.session, search);
    expect(position).toEqual({
      watermark: csnAt(ENTRIES - 1),
      appliedAtWatermark: [
        `00000000-0000-4000-8000-${String(ENTRIES - 1).padStart(12, '0')}@${csnAt(ENTRIES - 1)}`,
      ],
    });
    // Holding 100,000 entries takes hundreds of megabytes; keeping the newest change's, almost nothing.
    expect(directory.heldMegabytes()).toBeLessThan(10);
  });
});
