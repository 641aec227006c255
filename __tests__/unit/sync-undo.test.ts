import {
  ChangeSetNotFoundError,
  SyncAlreadyRunningError,
  SyncUndoDryRunError,
  SyncUndoExpiredError,
} from '../../lib/errors';
import { queuedJob, type NewSyncJob } from '../../lib/jobs/job-store';
import { SyncUndo } from '../../lib/undo/sync-undo';
import { MemorySyncJobStore } from '../helpers/memory-job-store';
import { MemorySyncStore } from '../helpers/memory-sync-store';
import { MemoryUndoStore } from '../helpers/memory-undo-store';

const AT = new Date('2026-12-01T00:00:00Z');
const job = (_id: string, dryRun: boolean): NewSyncJob => ({
  _id,
  trigger: 'admin',
  actor: { type: 'user', _id: 'admin', username: 'root' },
  dryRun,
  createdAt: AT,
});

/** Which undos are refused before anything is queued, and why (pure decisions over in-memory stores). */
describe('asking for an undo', () => {
  const store = new MemorySyncStore();
  const jobs = new MemorySyncJobStore();
  const queued: string[] = [];
  const undo = new SyncUndo({
    undo: new MemoryUndoStore(store),
    jobs,
    runs: { startUndo: async (changeSet) => (queued.push(changeSet), (await jobs.get('applied'))!) },
  });
  const admin = { trigger: 'admin' as const, admin: { _id: 'admin', username: 'root' } };

  beforeAll(async () => {
    await jobs.createUnlessActive(job('running', false));
    jobs.jobs.set('dry', { ...queuedJob(job('dry', true)), state: 'completed' });
    await jobs.insertBlocked(job('blocked', false), {
      guard: {
        revokedUsers: 30,
        clearedUsers: 0,
        evictions: 0,
        usersInRun: 100,
        thresholdPercent: 10,
        thresholdUsers: 20,
      },
      planned: 100,
      at: AT,
      settingsFingerprint: 'f',
    });
    // An event of a request whose journal was swept.
    store.auditTrail.set('e1', {
      _id: 'e1',
      t: 'abac.subject.attribute.changed',
      ts: AT,
      actor: { type: 'user' },
      data: [{ key: 'requestId', value: 'req-old' }],
    });
  });

  it.each([
    ['a dry run', { jobId: 'dry' }, SyncUndoDryRunError],
    ['a blocked run, which applied nothing', { jobId: 'blocked' }, SyncUndoDryRunError],
    ['an id nothing was made under', { requestId: 'never' }, ChangeSetNotFoundError],
    ['a request whose journal was removed', { requestId: 'req-old' }, SyncUndoExpiredError],
  ])('refuses %s, queuing nothing', async (_what, target, refusal) => {
    await expect(undo.plan(target, admin)).rejects.toBeInstanceOf(refusal);
    expect(queued).toEqual([]);
  });

  it('refuses a run still active, with that run', async () => {
    await jobs
      .finish('dry', (await jobs.get('dry'))!.runnerToken ?? '', { state: 'completed', at: AT })
      .catch(() => undefined);
    await jobs.createUnlessActive(job('running', false));
    await expect(undo.plan({ jobId: 'running' }, admin)).rejects.toBeInstanceOf(SyncAlreadyRunningError);
    expect(queued).toEqual([]);
  });
});
