import { RevocationBudget } from '../../lib/jobs/revocation-budget';
import { guardThresholds } from '../../lib/jobs/revocation-guard';
import { MemoryRevocationLedger } from '../helpers/memory-revocation-ledger';

const MINUTE = 60_000;
const thresholds = guardThresholds({}); // 10 %, 20 users, 60 minutes
const users = (first: number, count: number) =>
  Array.from({ length: count }, (_, index) => `u-${first + index}`);
const plan = (id: string, revokedUserIds: string[]) => ({ id, revokedUserIds, usersInRun: 1000 });

/** The people-reached guard across time (no servers). */
describe('the revocation budget', () => {
  let now: number;
  let ledger: MemoryRevocationLedger;
  let budget: RevocationBudget;
  beforeEach(() => {
    now = Date.UTC(2026, 11, 6, 12);
    ledger = new MemoryRevocationLedger();
    budget = new RevocationBudget({ ledger, clock: { now: () => now } });
  });

  it('stops a trickle: 40 people a poll pass alone, and are stopped once the hour’s total would pass 10 %', async () => {
    const admitted: boolean[] = [];
    for (let poll = 0; poll < 4; poll += 1) {
      admitted.push((await budget.admit(plan(`feed:${poll}`, users(poll * 40, 40)), thresholds)).admitted);
      now += MINUTE;
    }
    expect(admitted).toEqual([true, true, false, false]);
    expect(await budget.admit(plan('feed:next', users(500, 21)), thresholds)).toEqual({
      admitted: false,
      guard: expect.objectContaining({ revokedUsers: 21, recentRevokedUsers: 80, windowMinutes: 60 }),
    });
    expect((await budget.admit(plan('feed:last', users(500, 20)), thresholds)).admitted).toBe(true);
    // Stopped plans take nothing from the budget.
    expect((await ledger.usersSince(new Date(0))).size).toBe(100);
  });

  it('counts a person once: the same 60 people moved twice in the hour are 60, not 120', async () => {
    expect((await budget.admit(plan('feed:a', users(0, 60)), thresholds)).admitted).toBe(true);
    expect((await budget.admit(plan('feed:b', users(0, 60)), thresholds)).admitted).toBe(true);
    expect(
      await budget.figures({ revokedUserIds: users(50, 50), usersInRun: 1000 }, thresholds),
    ).toMatchObject({ revokedUsers: 50, recentRevokedUsers: 50 });
  });

  it('lets the window slide: what was revoked more than the window ago no longer counts', async () => {
    expect((await budget.admit(plan('run:a', users(0, 95)), thresholds)).admitted).toBe(true);
    now += 30 * MINUTE;
    expect((await budget.admit(plan('feed:b', users(100, 10)), thresholds)).admitted).toBe(false);
    now += 31 * MINUTE;
    expect((await budget.admit(plan('feed:c', users(100, 10)), thresholds)).admitted).toBe(true);
  });

  it('never lets two plans admitted at once through together over the limit', async () => {
    const both = await Promise.all([
      budget.admit(plan('feed:a', users(0, 60)), thresholds),
      budget.admit(plan('run:b', users(100, 60)), thresholds),
    ]);
    expect(both.filter((admission) => admission.admitted).length).toBeLessThan(2);
  });

  it('stops a plan too large on its own without entering it, and corrects an entry to what was applied', async () => {
    expect(await budget.admit(plan('run:all', users(0, 500)), thresholds)).toMatchObject({
      admitted: false,
      guard: { revokedUsers: 500, recentRevokedUsers: 0 },
    });
    expect(ledger.entries.size).toBe(0);
    await budget.admit(plan('feed:a', users(0, 50)), thresholds);
    await budget.settle('feed:a', users(0, 10));
    expect((await ledger.usersSince(new Date(0))).size).toBe(10);
    await budget.settle('feed:a', []);
    expect(ledger.entries.size).toBe(0);
  });

  it('enters nothing for a plan that takes nothing away, and shows a dry run the window without entering it', async () => {
    expect(await budget.admit(plan('feed:a', []), thresholds)).toEqual({ admitted: true });
    await budget.admit(plan('feed:b', users(0, 30)), thresholds);
    expect(
      await budget.figures(
        { revokedUserIds: users(100, 90), planned: { evictions: 7 }, usersInRun: 1000 },
        thresholds,
      ),
    ).toMatchObject({ revokedUsers: 90, recentRevokedUsers: 30, evictions: 7, usersInRun: 1000 });
    expect(ledger.entries.size).toBe(1);
  });
});
