import { FeedGuard } from '../../lib/feed/feed-guard';
import { RevocationBudget } from '../../lib/jobs/revocation-budget';
import { syncConfiguration } from '../../lib/sync/sync-configuration';
import type { Identifiers } from '../../lib/sync/sync-request';
import { ManualClock } from '../helpers/host';
import { MemoryDirectory, memoryEngine, MEMORY_DIRECTORY_SETTINGS } from '../helpers/memory-directory';
import { MemorySyncJobStore } from '../helpers/memory-job-store';
import { MemoryRevocationLedger } from '../helpers/memory-revocation-ledger';
import { MemorySyncStore } from '../helpers/memory-sync-store';

// The feed's planning over the in-memory store and directory (no servers).

const PEOPLE = 2500;
const uid = (index: number) => `person${index}`;

describe('the feed guard’s plan', () => {
  it('plans a group change reaching 2,500 people in lookups of at most 1,000 users each', async () => {
    const clock = new ManualClock();
    const store = new MemorySyncStore();
    const directory = new MemoryDirectory(
      Object.fromEntries(Array.from({ length: PEOPLE }, (_, index) => [uid(index), ['moved']])),
    );
    for (let index = 0; index < PEOPLE; index += 1)
      store.users.set(`u-${index}`, {
        _id: `u-${index}`,
        username: uid(index),
        ldap: true,
        abacAttributes: [{ key: 'department', values: ['staff'] }],
      });
    const { service: engine } = memoryEngine(store, directory, clock);
    const looked: number[] = [];
    const users = {
      findSubjects: (identifiers: Identifiers) => {
        looked.push(Object.values(identifiers).reduce((sum, list) => sum + (list?.length ?? 0), 0));
        return store.findSubjects(identifiers);
      },
      countLdapSubjects: () => store.countLdapSubjects(),
    };
    const guard = new FeedGuard({
      engine,
      users,
      jobs: new MemorySyncJobStore(),
      budget: new RevocationBudget({ ledger: new MemoryRevocationLedger(), clock }),
      clock,
    });
    const everyone = Array.from({ length: PEOPLE }, (_, index) => uid(index));
    const plan = await guard.plan(
      [{ usernames: everyone, ldapIds: [], ids: [] }],
      syncConfiguration(MEMORY_DIRECTORY_SETTINGS),
    );
    expect(plan.batches[0]).toHaveLength(PEOPLE);
    expect(Math.max(...looked)).toBeLessThanOrEqual(1000);
    expect(looked.reduce((sum, count) => sum + count, 0)).toBe(PEOPLE);
  });
});
