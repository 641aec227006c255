import {
  SyncAlreadyRunningError,
  SyncPlanAlreadyAppliedError,
  SyncPlanExpiredError,
  SyncPlanNotReviewableError,
  SyncPlanRunningError,
} from '../../lib/errors';
import { FullSyncRun } from '../../lib/jobs/full-sync-run';
import { jobView } from '../../lib/jobs/sync-job';
import { SyncJobs } from '../../lib/jobs/sync-jobs';
import { silentLogger } from '../../lib/logger';
import { noMetrics } from '../../lib/metrics';
import { ManualClock } from '../helpers/host';
import { MemoryDirectory, memoryEngine, MEMORY_DIRECTORY_SETTINGS } from '../helpers/memory-directory';
import { RevocationBudget } from '../../lib/jobs/revocation-budget';
import { MemoryRevocationLedger } from '../helpers/memory-revocation-ledger';
import { MemorySyncJobStore } from '../helpers/memory-job-store';
import { MemorySyncStore } from '../helpers/memory-sync-store';
import { MemoryUndoStore } from '../helpers/memory-undo-store';

// Applying a plan an admin reviewed, over the in-memory stores: the plan as kept (not a new reading of the
// directory), stale users left alone, and the refusals of SyncJobs.apply. The same path runs on slapd and
// MongoDB in sync-job-apply.test.ts.

const PEOPLE = 6;
const uid = (index: number) => `person${index}`;
const userId = (index: number) => `u-${index}`;
const ADMIN = { _id: 'u-admin', username: 'root' };
const department = (values: string[]) => [{ key: 'department', values }];

function setUp() {
  const clock = new ManualClock();
  const store = new MemorySyncStore();
  const jobs = new MemorySyncJobStore();
  const directory = new MemoryDirectory(
    Object.fromEntries(Array.from({ length: PEOPLE }, (_, index) => [uid(index), [`dept-${index}`]])),
  );
  const { service: engine } = memoryEngine(store, directory, clock);
  store.rooms.set('r-legacy', {
    _id: 'r-legacy',
    name: 'legacy',
    usersCount: PEOPLE,
    abacAttributes: department(['legacy']),
  });
  // Everyone holds a value the directory no longer has, in the room it grants.
  for (let index = 0; index < PEOPLE; index += 1) {
    store.users.set(userId(index), {
      _id: userId(index),
      username: uid(index),
      ldap: true,
      abacAttributes: department(['legacy']),
      rooms: ['r-legacy'],
    });
    store.subscriptions.set(`s-${index}`, { rid: 'r-legacy', userId: userId(index) });
  }
  const run = new FullSyncRun(
    {
      engine,
      settings: { current: async () => MEMORY_DIRECTORY_SETTINGS },
      store,
      jobs,
      budget: new RevocationBudget({ ledger: new MemoryRevocationLedger(), clock }),
      clock,
      logger: silentLogger,
      metrics: noMetrics,
    },
    { planBatchSize: 4, applyBatchSize: 4, heartbeatMs: 60_000, directoryRead: 'lookups' },
  );
  const queued: string[] = [];
  const syncJobs = new SyncJobs({
    jobs,
    undoJournal: new MemoryUndoStore(store),
    settings: { current: async () => MEMORY_DIRECTORY_SETTINGS },
    queue: { enqueue: async (jobId) => void queued.push(jobId) },
    checkSettings: () => engine.configuration(),
    clock,
    logger: silentLogger,
  });
  /** A dry run, planned to its end: its plan is kept. */
  const dryRun = async () => {
    const job = await syncJobs.start({ trigger: 'admin', admin: ADMIN, dryRun: true });
    expect(await run.drive(job._id)).toMatchObject({ state: 'completed', dryRun: true });
    return job._id;
  };
  return { clock, store, jobs, directory, run, syncJobs, dryRun };
}

describe('applying a reviewed plan (in memory)', () => {
  it('applies the plan as reviewed, without reading the directory again, audited as the admin with the reviewed run', async () => {
    const { store, jobs, directory, run, syncJobs, dryRun } = setUp();
    const reviewedId = await dryRun();
    // The directory changes after the review: the apply still applies what the admin saw.
    directory.people[uid(0)] = ['moved'];
    directory.down = true;
    const applying = await syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN });
    expect(applying).toMatchObject({ reviewedJobId: reviewedId, trigger: 'admin', dryRun: false });
    const job = await run.drive(applying._id);
    expect(job).toMatchObject({ state: 'completed', progress: { total: PEOPLE, processed: PEOPLE } });
    expect(jobView(job!).summary).toMatchObject({
      requested: PEOPLE,
      matched: PEOPLE,
      updated: PEOPLE,
      stale: 0,
    });
    for (let index = 0; index < PEOPLE; index += 1)
      expect(store.users.get(userId(index))?.abacAttributes).toEqual(department([`dept-${index}`]));
    expect(store.subscriptions.size).toBe(0);
    const events = [...store.auditTrail.values()];
    expect(events).toHaveLength(2 * PEOPLE);
    for (const event of events) {
      expect(event.actor).toEqual({ type: 'user', ...ADMIN });
      expect(event.data).toContainEqual({ key: 'reviewedJobId', value: reviewedId });
      expect(event.data).toContainEqual({ key: 'requestId', value: applying._id });
    }
    expect((await jobs.get(reviewedId))?.appliedBy).toBe(applying._id);
    // The reviewed plan stays readable until it expires.
    expect(await jobs.countStaged(reviewedId)).toBe(PEOPLE);
  });

  it('leaves a user changed since the plan as they are, reports them stale, and applies the rest', async () => {
    const { store, jobs, run, syncJobs, dryRun } = setUp();
    const reviewedId = await dryRun();
    store.users.get(userId(1))!.abacAttributes = department(['changed-elsewhere']);
    // A user who already holds the planned value (an apply cut short, or another writer) is not stale.
    store.users.get(userId(2))!.abacAttributes = department(['dept-2']);
    const applying = await syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN });
    const job = await run.drive(applying._id);
    expect(job!.summary).toMatchObject({ updated: PEOPLE - 1, stale: 1 });
    expect(store.users.get(userId(1))?.abacAttributes).toEqual(department(['changed-elsewhere']));
    expect(store.subscriptions.has('s-1')).toBe(true);
    expect(store.subscriptions.has('s-2')).toBe(false);
    const stale = await syncJobs.changes(reviewedId, { stale: true, limit: 10 });
    expect(stale.changes.map((change) => [change.userId, change.stale])).toEqual([[userId(1), true]]);
    expect(
      [...store.auditTrail.values()].filter((event) =>
        event.data.some(({ value }) => (value as { _id?: string })?._id === userId(1)),
      ),
    ).toEqual([]);
    expect((await jobs.get(applying._id))?.summary.stale).toBe(1);
  });

  it('resumes an apply cut short without calling the users it already applied stale', async () => {
    const { store, jobs, run, syncJobs, dryRun } = setUp();
    const reviewedId = await dryRun();
    const applying = await syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN });
    // The first runner loses the job after writing its first batch, before recording it.
    const writeIfUnchanged = store.writeIfUnchanged.bind(store);
    store.writeIfUnchanged = async (...args) => {
      const written = await writeIfUnchanged(...args);
      jobs.handToAnotherRunner(applying._id);
      return written;
    };
    expect(await run.drive(applying._id)).toBeUndefined();
    expect(store.users.get(userId(0))?.abacAttributes).toEqual(department(['dept-0']));
    store.writeIfUnchanged = writeIfUnchanged;
    const job = await run.drive(applying._id);
    expect(job).toMatchObject({ state: 'completed', progress: { total: PEOPLE, processed: PEOPLE } });
    expect(jobView(job!).summary).toMatchObject({ updated: PEOPLE, stale: 0 });
    expect(store.subscriptions.size).toBe(0);
  });

  it('refuses what cannot be applied, each with its own error, and lets a failed apply be retried', async () => {
    const { clock, jobs, run, syncJobs, dryRun } = setUp();
    const apply = (jobId: string) => syncJobs.apply(jobId, { trigger: 'admin', admin: ADMIN });
    const real = await syncJobs.start({ trigger: 'admin', admin: ADMIN, dryRun: false });
    await expect(apply(real._id)).rejects.toBeInstanceOf(SyncPlanNotReviewableError);
    await run.drive(real._id);
    await expect(apply(real._id)).rejects.toBeInstanceOf(SyncPlanNotReviewableError);

    const reviewedId = await dryRun();
    const [first, second] = await Promise.allSettled([apply(reviewedId), apply(reviewedId)]);
    expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
    const lost = [first, second].find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(SyncPlanRunningError);
    const winner = (await jobs.get(reviewedId))!.appliedBy!;
    await expect(apply(reviewedId)).rejects.toBeInstanceOf(SyncPlanRunningError);

    // Cancelled before it ran: the plan may be applied again.
    await syncJobs.cancel(winner, { type: 'user', ...ADMIN });
    const retried = await apply(reviewedId);
    await run.drive(retried._id);
    await expect(apply(reviewedId)).rejects.toMatchObject({
      constructor: SyncPlanAlreadyAppliedError,
      extra: { appliedBy: retried._id },
    });

    const another = await dryRun();
    clock.advance(25 * 60 * 60_000);
    await expect(apply(another)).rejects.toBeInstanceOf(SyncPlanExpiredError);
  });

  it('refuses while another run holds the slot, and leaves the plan free to apply later', async () => {
    const { jobs, syncJobs, dryRun } = setUp();
    const reviewedId = await dryRun();
    await syncJobs.start({ trigger: 'schedule', dryRun: false });
    await expect(syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN })).rejects.toBeInstanceOf(
      SyncAlreadyRunningError,
    );
    expect((await jobs.get(reviewedId))?.appliedBy).toBeUndefined();
  });

  it('fails, without applying the rest, when the plan expires before the apply starts', async () => {
    const { store, jobs, run, syncJobs, dryRun, clock } = setUp();
    const reviewedId = await dryRun();
    const applying = await syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN });
    // The sweep cannot expire a plan being applied; a plan marked expired by other means is not applied.
    jobs.jobs.get(reviewedId)!.planExpiredAt = new Date(clock.now());
    const job = await run.drive(applying._id);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'error-sync-plan-expired' } });
    expect(store.auditTrail.size).toBe(0);
    expect(store.subscriptions.size).toBe(PEOPLE);
  });

  it('keeps a plan that is being applied when the retention sweep runs', async () => {
    const { jobs, syncJobs, dryRun, clock } = setUp();
    const reviewedId = await dryRun();
    const applying = await syncJobs.apply(reviewedId, { trigger: 'admin', admin: ADMIN });
    clock.advance(25 * 60 * 60_000);
    expect(await syncJobs.expirePlans(MEMORY_DIRECTORY_SETTINGS)).toEqual([]);
    expect(await jobs.countStaged(reviewedId)).toBe(PEOPLE);
    await syncJobs.cancel(applying._id, { type: 'user', ...ADMIN });
    expect(await syncJobs.expirePlans(MEMORY_DIRECTORY_SETTINGS)).toEqual([reviewedId]);
  });
});
