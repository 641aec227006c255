import type { Connection } from 'mongoose';
import type { SyncJobStore } from '../../lib/jobs/job-store';
import type { StagedChange } from '../../lib/jobs/staged-change';
import { createModels, ensureIndexes } from '../../models';
import { MongoSyncJobStore } from '../../mongo/mongo-job-store';
import { closeTestDatabase, openTestDatabase } from '../helpers/database';
import { MemorySyncJobStore } from '../helpers/memory-job-store';

interface JobStoreFixture {
  store: SyncJobStore;
  close(): Promise<void>;
}

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, seconds));
const ROOT = { type: 'user' as const, _id: 'u-admin', username: 'root' };
const newJob = (_id: string, seconds = 0) => ({
  _id,
  trigger: 'admin' as const,
  actor: { type: 'user' as const, _id: 'u-admin', username: 'root' },
  dryRun: false,
  createdAt: at(seconds),
});
/** What the guard records of a run it blocked. */
const blockedAt = (when: Date) => ({
  guard: {
    revokedUsers: 1,
    clearedUsers: 0,
    evictions: 0,
    usersInRun: 1,
    thresholdPercent: 0,
    thresholdUsers: 0,
  },
  planned: 1,
  settingsFingerprint: 'f1',
  at: when,
});
const change = (jobId: string, userId: string): StagedChange => ({
  jobId,
  userId,
  username: userId,
  status: 'updated',
  before: [],
  next: [{ key: 'department', values: ['eng'] }],
  added: [{ key: 'department', values: ['eng'] }],
  roomsRevoked: [],
});

async function mongoFixture(): Promise<JobStoreFixture> {
  const connection: Connection = await openTestDatabase();
  const models = createModels(connection);
  await ensureIndexes(models);
  return { store: new MongoSyncJobStore(models), close: () => closeTestDatabase(connection) };
}

/** The same cases against the MongoDB adapter and the in-memory store, so the fake cannot drift. */
describe.each([
  [
    'in memory',
    async (): Promise<JobStoreFixture> => ({ store: new MemorySyncJobStore(), close: async () => {} }),
  ],
  ['on MongoDB', mongoFixture],
])('the job store %s', (_name, makeFixture) => {
  let fixture: JobStoreFixture;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(() => fixture.close());

  it('holds one active job: a second is refused with the first, until the first ends', async () => {
    const { store } = fixture;
    expect(await store.createUnlessActive(newJob('j1'))).toMatchObject({
      created: true,
      job: { state: 'queued' },
    });
    expect(await store.createUnlessActive(newJob('j2', 1))).toMatchObject({
      created: false,
      active: { _id: 'j1' },
    });
    await store.takeOver('j1', { token: 't1', name: 'host:1' }, at(2));
    expect(await store.createUnlessActive(newJob('j2', 3))).toMatchObject({
      created: false,
      active: { _id: 'j1' },
    });
    expect(await store.finish('j1', 't1', { state: 'completed', at: at(4) })).toMatchObject({
      state: 'completed',
    });
    expect(await store.createUnlessActive(newJob('j2', 5))).toMatchObject({ created: true });
    expect((await store.newest(10)).map((job) => job._id)).toEqual(['j2', 'j1']);
  });

  it('drops, on takeover while planning, what was staged past the checkpoint; keeps it while applying', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1'));
    await store.takeOver('j1', { token: 't1', name: 'host:1' }, at(1));
    await store.enterPhase('j1', 't1', 'planning', 10, at(1));
    await store.stage([change('j1', 'u1'), change('j1', 'u2')]);
    await store.advance('j1', 't1', { checkpoint: 'u2', processed: 2, summary: {}, at: at(2) });
    // Staged, never recorded: the runner died here.
    await store.stage([change('j1', 'u3'), change('j1', 'u4')]);
    await store.takeOver('j1', { token: 't2', name: 'host:2' }, at(3));
    expect(await store.countStaged('j1')).toBe(2);
    await store.stage([change('j1', 'u3')]);
    await store.enterPhase('j1', 't2', 'applying', 3, at(4));
    await store.takeOver('j1', { token: 't3', name: 'host:3' }, at(5));
    expect(await store.countStaged('j1')).toBe(3);
  });

  it('stages a batch and marks stale users only for the current runner', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1'));
    await store.takeOver('j1', { token: 't1', name: 'host:1' }, at(1));
    await store.takeOver('j1', { token: 't2', name: 'host:2' }, at(2));
    expect(await store.stageBatch('j1', 't1', [change('j1', 'u1')])).toBe(false);
    expect(await store.countStaged('j1')).toBe(0);
    expect(await store.stageBatch('j1', 't2', [change('j1', 'u1')])).toBe(true);
    expect(await store.markStale('j1', ['u1'], { jobId: 'j1', runnerToken: 't1' })).toBe(false);
    expect((await store.stagedPage('j1', { staleOnly: true, limit: 10 })).length).toBe(0);
    expect(await store.markStale('j1', ['u1'], { jobId: 'j1', runnerToken: 't2' })).toBe(true);
    expect((await store.stagedPage('j1', { staleOnly: true, limit: 10 })).length).toBe(1);
  });

  it('lets only the current runner move a job (fencing)', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1'));
    const started = await store.takeOver('j1', { token: 't1', name: 'host:1' }, at(1));
    expect(started).toMatchObject({ state: 'running', runner: 'host:1', startedAt: at(1) });
    // No phase until its work is counted: the total is not known yet.
    expect(started?.phase).toBeUndefined();
    expect(await store.enterPhase('j1', 't1', 'planning', 10, at(1))).toMatchObject({
      phase: 'planning',
      progress: { total: 10, processed: 0 },
    });
    await store.advance('j1', 't1', { checkpoint: 'u3', processed: 3, summary: { unchanged: 3 }, at: at(2) });
    // Another process takes the job over: the first runner's writes are refused from now on.
    const taken = await store.takeOver('j1', { token: 't2', name: 'host:2' }, at(3));
    expect(taken).toMatchObject({
      checkpoint: 'u3',
      progress: { total: 10, processed: 3 },
      startedAt: at(1),
    });
    expect(
      await store.advance('j1', 't1', { checkpoint: 'u6', processed: 3, summary: {}, at: at(4) }),
    ).toBeUndefined();
    expect(await store.heartbeat('j1', 't1', at(4))).toBeUndefined();
    expect(await store.finish('j1', 't1', { state: 'failed', at: at(4) })).toBeUndefined();
    const moved = await store.advance('j1', 't2', {
      checkpoint: 'u6',
      processed: 3,
      summary: { unchanged: 2, updated: 1 },
      at: at(5),
    });
    expect(moved).toMatchObject({
      checkpoint: 'u6',
      progress: { processed: 6 },
      summary: { unchanged: 5, updated: 1 },
    });
    const applying = await store.enterPhase('j1', 't2', 'applying', 4, at(6));
    expect(applying).toMatchObject({ phase: 'applying', progress: { total: 4, processed: 0 } });
    expect(applying?.checkpoint).toBeUndefined();
  });

  it('cancels a queued job at once and marks a running one, recording who asked', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1'));
    expect(await store.requestCancel('j1', at(1), ROOT)).toMatchObject({
      job: { state: 'cancelled', cancelRequested: true, cancelledBy: ROOT },
      ended: false,
    });
    // Asked again, it has ended: left as it is.
    const ended = await store.requestCancel('j1', at(2), { type: 'user', _id: 'u2', username: 'other' });
    expect(ended).toMatchObject({
      job: { state: 'cancelled', cancelledBy: ROOT, finishedAt: at(1) },
      ended: true,
    });
    expect(await store.active()).toBeUndefined();
    await store.createUnlessActive(newJob('j2', 2));
    await store.takeOver('j2', { token: 't', name: 'host:1' }, at(3));
    expect(await store.requestCancel('j2', at(4), ROOT)).toMatchObject({
      job: { state: 'running', cancelRequested: true, cancelledBy: ROOT },
      ended: false,
    });
    expect(await store.requestCancel('nope', at(4), ROOT)).toBeUndefined();
  });

  it('records who discarded a blocked run’s changes, and when', async () => {
    const { store } = fixture;
    await store.insertBlocked(newJob('blocked'), blockedAt(at(1)));
    expect(await store.markDiscarded('blocked', ROOT, at(2))).toMatchObject({
      state: 'blocked',
      discardedBy: ROOT,
      discardedAt: at(2),
    });
    expect(await store.markDiscarded('nope', ROOT, at(2))).toBeUndefined();
  });

  it('gives a released job up: its heartbeat is gone, and a takeover finds it', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1'));
    await store.takeOver('j1', { token: 't1', name: 'host:1' }, at(1));
    const released = await store.release('j1', 't1');
    expect(released?.heartbeatAt).toBeUndefined();
    expect(released?.state).toBe('running');
    expect(await store.takeOver('j1', { token: 't2', name: 'host:2' }, at(2))).toMatchObject({
      runner: 'host:2',
    });
  });

  it('keeps staged changes per job in user id order, replaces a user staged again, and drops them', async () => {
    const { store } = fixture;
    await store.stage([change('j1', 'u3'), change('j1', 'u1'), change('j2', 'u2'), change('j1', 'u2')]);
    await store.stage([{ ...change('j1', 'u1'), status: 'cleared', next: [] }]);
    expect(await store.countStaged('j1')).toBe(3);
    const batches: StagedChange[][] = [];
    for await (const batch of store.stagedChanges('j1', undefined, 2)) batches.push(batch);
    expect(batches.map((batch) => batch.map((staged) => staged.userId))).toEqual([['u1', 'u2'], ['u3']]);
    expect(batches[0]![0]).toEqual({ ...change('j1', 'u1'), status: 'cleared', next: [] });
    const after: string[] = [];
    for await (const batch of store.stagedChanges('j1', 'u1', 10))
      after.push(...batch.map((staged) => staged.userId));
    expect(after).toEqual(['u2', 'u3']);
    await store.dropStaged('j1');
    expect(await store.countStaged('j1')).toBe(0);
    expect(await store.countStaged('j2')).toBe(1);
  });
  /** A dry run that planned to its end (`seconds` after the epoch of these tests), keeping its plan. */
  async function keptPlan(store: SyncJobStore, jobId: string, seconds: number) {
    await store.createUnlessActive({ ...newJob(jobId, seconds), dryRun: true });
    await store.takeOver(jobId, { token: `t-${jobId}`, name: 'host:1' }, at(seconds));
    await store.stage([change(jobId, 'u1'), change(jobId, 'u2')]);
    await store.finish(jobId, `t-${jobId}`, { state: 'completed', at: at(seconds) });
  }

  it('names the finish time of the n-th newest kept plan, for the cap on kept plans', async () => {
    const { store } = fixture;
    for (const [jobId, seconds] of [
      ['p1', 1],
      ['p2', 2],
      ['p3', 3],
    ] as const)
      await keptPlan(store, jobId, seconds);
    expect(await store.keptPlanFinishedAt(2)).toEqual(at(2));
    expect(await store.keptPlanFinishedAt(4)).toBeUndefined();
    await store.expirePlans(at(3), at(4));
    expect(await store.keptPlanFinishedAt(2)).toBeUndefined();
  });

  it('drops the staging of finished runs that keep no plan, and only theirs', async () => {
    const { store } = fixture;
    await keptPlan(store, 'dry', 1);
    await store.createUnlessActive(newJob('real', 2));
    await store.takeOver('real', { token: 't', name: 'host:1' }, at(2));
    await store.stage([change('real', 'u1')]);
    // A real run's staging outlives it when the drop at its end failed.
    await store.finish('real', 't', { state: 'completed', at: at(3) });
    await store.createUnlessActive(newJob('running', 4));
    await store.takeOver('running', { token: 't2', name: 'host:1' }, at(4));
    await store.stage([change('running', 'u1')]);
    expect(await store.dropOrphanedStaging()).toEqual(['real']);
    expect(await store.countStaged('real')).toBe(0);
    expect(await store.countStaged('dry')).toBe(2);
    expect(await store.countStaged('running')).toBe(1);
  });

  it('drops the staging of a run never stored at the second call that finds it missing, not before', async () => {
    const { store } = fixture;
    // A feed's blocked plan, staged; storing its run failed.
    await store.stage([change('never-stored', 'u1'), change('never-stored', 'u2')]);
    // A feed's blocked plan staged just before its run is stored.
    await store.stage([change('stored-next', 'u1')]);
    expect(await store.dropOrphanedStaging()).toEqual([]);
    await store.insertBlocked(newJob('stored-next', 5), blockedAt(at(5)));
    expect(await store.countStaged('never-stored')).toBe(2);
    expect(await store.dropOrphanedStaging()).toEqual(['never-stored']);
    expect(await store.countStaged('never-stored')).toBe(0);
    expect(await store.countStaged('stored-next')).toBe(1);
    expect(await store.dropOrphanedStaging()).toEqual([]);
  });

  it('removes finished runs older than the retention, never an active run or a live kept plan', async () => {
    const { store } = fixture;
    await keptPlan(store, 'expired', 1);
    await keptPlan(store, 'dry', 2);
    await store.expirePlans(at(2), at(3));
    await store.createUnlessActive(newJob('old', 3));
    await store.takeOver('old', { token: 't', name: 'host:1' }, at(3));
    await store.finish('old', 't', { state: 'failed', at: at(4) });
    await store.createUnlessActive(newJob('active', 5));
    expect((await store.removeFinished(at(10))).sort()).toEqual(['expired', 'old']);
    expect(await store.get('old')).toBeUndefined();
    expect(await store.get('dry')).toBeDefined();
    expect(await store.get('active')).toBeDefined();
    expect(await store.countStaged('expired')).toBe(0);
  });

  it('lets one apply claim a kept plan, gives it back, and never claims one that is not kept', async () => {
    const { store } = fixture;
    await keptPlan(store, 'dry', 1);
    expect(await store.claimPlan('dry', 'a1', undefined)).toBe(true);
    expect(await store.claimPlan('dry', 'a2', undefined)).toBe(false);
    expect((await store.get('dry'))?.appliedBy).toBe('a1');
    // After a1 failed: a retry names it as the one it replaces.
    expect(await store.claimPlan('dry', 'a3', 'a1')).toBe(true);
    await store.unclaimPlan('dry', 'a3', 'a1');
    expect((await store.get('dry'))?.appliedBy).toBe('a1');
    await store.unclaimPlan('dry', 'a3', 'a1');
    expect((await store.get('dry'))?.appliedBy).toBe('a1');
    await store.createUnlessActive(newJob('real', 2));
    expect(await store.claimPlan('real', 'a4', undefined)).toBe(false);
    expect(await store.claimPlan('missing', 'a5', undefined)).toBe(false);
  });

  it('adds the counts a run ends with to its summary (a blocked run: what its plan would do)', async () => {
    const { store } = fixture;
    await store.createUnlessActive(newJob('j1', 1));
    await store.takeOver('j1', { token: 't', name: 'host:1' }, at(1));
    await store.advance('j1', 't', { checkpoint: 'u2', processed: 2, summary: { unchanged: 2 }, at: at(2) });
    const ended = await store.finish('j1', 't', {
      state: 'blocked',
      summary: { updated: 3, cleared: 1, roomsRevoked: 2 },
      at: at(3),
    });
    expect(ended?.summary).toMatchObject({ unchanged: 2, updated: 3, cleared: 1, roomsRevoked: 2 });
  });

  it('pages runs and a plan by offset, and counts them, as the list routes report totals', async () => {
    const { store } = fixture;
    for (const [index, id] of ['j1', 'j2', 'j3'].entries()) {
      await store.createUnlessActive(newJob(id, index));
      await store.takeOver(id, { token: `t-${id}`, name: 'host:1' }, at(index));
      await store.finish(id, `t-${id}`, { state: 'completed', at: at(index) });
    }
    expect((await store.newest(2, 1)).map((job) => job._id)).toEqual(['j2', 'j1']);
    expect(await store.countJobs()).toBe(3);
    await store.stage(['u1', 'u2', 'u3', 'u4'].map((userId) => change('j1', userId)));
    await store.stage([{ ...change('j1', 'u5'), status: 'cleared' }]);
    expect((await store.stagedPage('j1', { offset: 2, limit: 2 })).map((staged) => staged.userId)).toEqual([
      'u3',
      'u4',
    ]);
    expect(await store.countStaged('j1')).toBe(5);
    expect(await store.countStaged('j1', { status: 'cleared' })).toBe(1);
    expect(await store.countStaged('j1', { staleOnly: true })).toBe(0);
  });

  it('pages a plan in username order, by who loses a room whatever their status, and by username prefix ignoring case', async () => {
    const { store } = fixture;
    const staged = (userId: string, username: string, status: StagedChange['status'], rooms: number) => ({
      ...change('j1', userId),
      username,
      status,
      roomsRevoked: Array.from({ length: rooms }, (_, index) => ({ _id: `r${index}`, name: `room${index}` })),
    });
    await store.stage([
      staged('u1', 'zoe', 'updated', 0),
      staged('u2', 'Anna', 'cleared', 1),
      staged('u3', 'bob', 'unchanged', 2),
      staged('u4', 'anne', 'updated', 1),
      staged('u0', 'anne', 'updated', 0),
      staged('u5', 'an.(x)*', 'updated', 0),
    ]);
    const names = async (page: Parameters<typeof store.stagedPage>[1]) =>
      (await store.stagedPage('j1', page)).map((change) => `${change.username}/${change.userId}`);
    // Binary order, as MongoDB compares strings without a collation: upper case first, ties by user id.
    expect(await names({ limit: 10 })).toEqual([
      'Anna/u2',
      'an.(x)*/u5',
      'anne/u0',
      'anne/u4',
      'bob/u3',
      'zoe/u1',
    ]);
    expect(await names({ after: { username: 'anne', userId: 'u0' }, limit: 2 })).toEqual([
      'anne/u4',
      'bob/u3',
    ]);
    expect(await names({ losesRooms: true, limit: 10 })).toEqual(['Anna/u2', 'anne/u4', 'bob/u3']);
    expect(await store.countStaged('j1', { losesRooms: true })).toBe(3);
    expect(await names({ usernamePrefix: 'AN', limit: 10 })).toEqual([
      'Anna/u2',
      'an.(x)*/u5',
      'anne/u0',
      'anne/u4',
    ]);
    // The prefix is text, never a pattern.
    expect(await names({ usernamePrefix: 'an.(', limit: 10 })).toEqual(['an.(x)*/u5']);
    expect(await store.countStaged('j1', { usernamePrefix: '.*' })).toBe(0);
    expect(await names({ usernamePrefix: 'an', losesRooms: true, status: 'updated', limit: 10 })).toEqual([
      'anne/u4',
    ]);
  });

  it('marks stale users of a plan, pages them alone, and keeps a plan being applied past its retention', async () => {
    const { store } = fixture;
    await keptPlan(store, 'dry', 1);
    await keptPlan(store, 'old', 2);
    expect(await store.claimPlan('dry', 'apply', undefined)).toBe(true);
    await store.createUnlessActive({ ...newJob('apply', 3), reviewedJobId: 'dry' });
    await store.takeOver('apply', { token: 'ta', name: 'host:1' }, at(3));
    await store.markStale('dry', ['u2', 'nobody'], { jobId: 'apply', runnerToken: 'ta' });
    expect(await store.stagedPage('dry', { staleOnly: true, limit: 10 })).toEqual([
      { ...change('dry', 'u2'), stale: true },
    ]);
    expect((await store.stagedPage('dry', { limit: 10 })).map((staged) => staged.userId)).toEqual([
      'u1',
      'u2',
    ]);
    expect(await store.expirePlans(at(10), at(11))).toEqual(['old']);
    expect((await store.get('dry'))?.planExpiredAt).toBeUndefined();
    expect(await store.claimPlan('old', 'late', undefined)).toBe(false);
    await store.finish('apply', 'ta', { state: 'cancelled', at: at(12) });
    expect(await store.expirePlans(at(10), at(13))).toEqual(['dry']);
  });
  it('stores a run blocked from the start (a feed batch): finished, no slot taken, its plan applicable', async () => {
    const { store } = fixture;
    const guard = {
      revokedUsers: 5,
      clearedUsers: 0,
      evictions: 1,
      usersInRun: 9,
      thresholdPercent: 10,
      thresholdUsers: 1,
    };
    const blocked = await store.insertBlocked(
      { ...newJob('feed-1', 1), trigger: 'feed' },
      { guard, planned: 5, at: at(2), settingsFingerprint: 'f1' },
    );
    expect(blocked).toMatchObject({
      state: 'blocked',
      trigger: 'feed',
      guard,
      progress: { total: 5, processed: 5 },
    });
    expect(await store.get('feed-1')).toMatchObject({
      state: 'blocked',
      finishedAt: at(2),
      settingsFingerprint: 'f1',
    });
    expect(await store.active()).toBeUndefined();
    expect(await store.createUnlessActive(newJob('j1', 3))).toMatchObject({ created: true });
    expect(await store.claimPlan('feed-1', 'apply-1', undefined)).toBe(true);
  });
});
