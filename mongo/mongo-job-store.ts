import type { Models } from '../models';
import { ACTIVE_SLOT, type SyncJobDocument } from '../models/sync-job';
import type { StagedChangeDocument } from '../models/staged-change';
import {
  blockedJob,
  queuedJob,
  type BlockedOutcome,
  type CreateOutcome,
  type JobAdvance,
  type NewSyncJob,
  type StagedFilter,
  type StagedPage,
  type SyncJobStore,
  usernamePrefixPattern,
} from '../lib/jobs/job-store';
import type { GuardFigures } from '../lib/jobs/revocation-guard';
import type { StagedChange } from '../lib/jobs/staged-change';
import {
  ACTIVE_STATES,
  keepsPlan,
  type JobSummary,
  type SyncJob,
  type SyncJobActor,
  type SyncJobPhase,
  type SyncJobState,
} from '../lib/jobs/sync-job';
import { inBatches } from './batches';
import { DUPLICATE_KEY } from './write-errors';

type JobModels = Pick<Models, 'syncJobs' | 'stagedChanges'>;

/** Jobs in abac_sync_jobs, staged plans in abac_sync_staged_changes. */
export class MongoSyncJobStore implements SyncJobStore {
  constructor(private readonly models: JobModels) {}

  async createUnlessActive(job: NewSyncJob): Promise<CreateOutcome> {
    const document: SyncJobDocument = { ...queuedJob(job), activeSlot: ACTIVE_SLOT };
    // A job that finishes between the refused insert and the read frees the slot: try once more.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.models.syncJobs.collection.insertOne(document as never);
        return { created: true, job: withoutSlot(document) };
      } catch (error) {
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      }
      const active = await this.active();
      if (active) return { created: false, active };
    }
    throw new Error('the run slot stayed taken without an active job');
  }

  async insertBlocked(job: NewSyncJob, outcome: BlockedOutcome): Promise<SyncJob> {
    const document = blockedJob(job, outcome);
    await this.models.syncJobs.collection.insertOne(document as never);
    return document;
  }

  async get(jobId: string): Promise<SyncJob | undefined> {
    return this.one({ _id: jobId });
  }

  async active(): Promise<SyncJob | undefined> {
    return this.one({ activeSlot: ACTIVE_SLOT });
  }

  async newest(limit: number, offset = 0): Promise<SyncJob[]> {
    const jobs = await this.models.syncJobs
      .find({})
      .sort({ createdAt: -1, _id: -1 })
      .skip(offset)
      .limit(limit)
      .lean<SyncJobDocument[]>()
      .exec();
    return jobs.map(withoutSlot);
  }

  countJobs(): Promise<number> {
    return this.models.syncJobs.countDocuments({}).exec();
  }

  async takeOver(jobId: string, runner: { token: string; name: string }, at: Date) {
    const active = { _id: jobId, state: { $in: ['queued', 'running'] as SyncJobState[] } };
    // The phase is set by enterPhase, with the total it counted.
    await this.models.syncJobs.updateOne(
      { ...active, startedAt: { $exists: false } },
      { $set: { startedAt: at } },
    );
    const job = await this.update(active, {
      $set: { state: 'running', runnerToken: runner.token, runner: runner.name, heartbeatAt: at },
    });
    if (job && job.phase !== 'applying')
      await this.models.stagedChanges.deleteMany({
        jobId,
        ...(job.checkpoint !== undefined ? { userId: { $gt: job.checkpoint } } : {}),
      });
    return job;
  }

  enterPhase(jobId: string, runnerToken: string, phase: SyncJobPhase, total: number, at: Date) {
    return this.update(
      { _id: jobId, runnerToken, state: 'running' },
      { $set: { phase, progress: { total, processed: 0 }, heartbeatAt: at }, $unset: { checkpoint: 1 } },
    );
  }

  advance(jobId: string, runnerToken: string, step: JobAdvance) {
    const increments: Record<string, number> = { 'progress.processed': step.processed };
    for (const [counter, value] of Object.entries(step.summary)) {
      if (value) increments[`summary.${counter}`] = value;
    }
    for (const [counter, value] of Object.entries(step.revocations ?? {})) {
      if (value) increments[`planned.${counter}`] = value;
    }
    return this.update(
      { _id: jobId, runnerToken, state: 'running' },
      { $set: { checkpoint: step.checkpoint, heartbeatAt: step.at }, $inc: increments },
    );
  }

  heartbeat(jobId: string, runnerToken: string, at: Date) {
    return this.update({ _id: jobId, runnerToken, state: 'running' }, { $set: { heartbeatAt: at } });
  }

  release(jobId: string, runnerToken: string) {
    return this.update(
      { _id: jobId, runnerToken, state: 'running' },
      { $unset: { runnerToken: 1, heartbeatAt: 1 } },
    );
  }

  finish(
    jobId: string,
    runnerToken: string,
    outcome: {
      state: 'completed' | 'failed' | 'cancelled' | 'blocked';
      error?: SyncJob['error'];
      guard?: GuardFigures;
      settingsFingerprint?: string;
      summary?: Partial<JobSummary>;
      at: Date;
    },
  ) {
    const added = Object.entries(outcome.summary ?? {}).filter(([, count]) => count);
    return this.update(
      { _id: jobId, runnerToken, state: 'running' },
      {
        $set: {
          state: outcome.state,
          finishedAt: outcome.at,
          heartbeatAt: outcome.at,
          ...(outcome.error ? { error: outcome.error } : {}),
          ...(outcome.guard ? { guard: outcome.guard } : {}),
          ...(outcome.settingsFingerprint ? { settingsFingerprint: outcome.settingsFingerprint } : {}),
        },
        $unset: { activeSlot: 1, checkpoint: 1 },
        ...(added.length > 0
          ? { $inc: Object.fromEntries(added.map(([name, count]) => [`summary.${name}`, count])) }
          : {}),
      },
    );
  }

  async requestCancel(
    jobId: string,
    at: Date,
    by: SyncJobActor,
  ): Promise<{ job: SyncJob; ended: boolean } | undefined> {
    const queued = await this.update(
      { _id: jobId, state: 'queued' },
      {
        $set: { state: 'cancelled', cancelRequested: true, cancelledBy: by, finishedAt: at },
        $unset: { activeSlot: 1 },
      },
    );
    if (queued) return { job: queued, ended: false };
    const running = await this.update(
      { _id: jobId, state: 'running' },
      { $set: { cancelRequested: true, cancelledBy: by } },
    );
    if (running) return { job: running, ended: false };
    // Neither queued nor running when asked: ended already (or it ended between the two updates).
    const job = await this.get(jobId);
    return job ? { job, ended: true } : undefined;
  }

  markDiscarded(jobId: string, by: SyncJobActor, at: Date): Promise<SyncJob | undefined> {
    return this.update({ _id: jobId }, { $set: { discardedBy: by, discardedAt: at } });
  }

  async stage(changes: readonly StagedChange[]): Promise<void> {
    if (changes.length === 0) return;
    // The driver's bulkWrite, not the model's: the changes were built by the planning, and Mongoose casts
    // every replacement into a document first.
    await this.models.stagedChanges.collection.bulkWrite(
      changes.map((change) => ({
        replaceOne: {
          filter: { _id: stagedId(change.jobId, change.userId) as never },
          replacement: { _id: stagedId(change.jobId, change.userId), ...change },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  countStaged(jobId: string, filter: StagedFilter = {}): Promise<number> {
    return this.models.stagedChanges.countDocuments(stagedMatching(jobId, filter)).exec();
  }

  async *stagedChanges(jobId: string, afterUserId: string | undefined, batchSize: number) {
    const filter = afterUserId === undefined ? { jobId } : { jobId, userId: { $gt: afterUserId } };
    // One cursor for the phase: the driver fetches a batch at a time, never the whole plan.
    const cursor = this.models.stagedChanges
      .find(filter, { _id: 0 })
      .sort({ userId: 1 })
      .lean<StagedChangeDocument[]>()
      .cursor({ batchSize });
    yield* inBatches(cursor, batchSize, (change) => change as StagedChange);
  }

  async claimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined) {
    const claimed = await this.models.syncJobs.updateOne(
      {
        _id: reviewedJobId,
        ...KEPT_PLAN,
        planExpiredAt: { $exists: false },
        appliedBy: previous === undefined ? { $exists: false } : previous,
      },
      { $set: { appliedBy: applyJobId } },
    );
    return claimed.modifiedCount === 1;
  }

  async unclaimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined) {
    await this.models.syncJobs.updateOne(
      { _id: reviewedJobId, appliedBy: applyJobId },
      previous === undefined ? { $unset: { appliedBy: 1 } } : { $set: { appliedBy: previous } },
    );
  }

  async markStale(
    jobId: string,
    userIds: readonly string[],
    applier: { jobId: string; runnerToken: string },
  ): Promise<boolean> {
    if (!(await this.runs(applier.jobId, applier.runnerToken))) return false;
    if (userIds.length === 0) return true;
    await this.models.stagedChanges.updateMany(
      { _id: { $in: userIds.map((userId) => stagedId(jobId, userId)) } },
      { $set: { stale: true } },
    );
    return true;
  }

  async stageBatch(jobId: string, runnerToken: string, changes: readonly StagedChange[]): Promise<boolean> {
    if (!(await this.runs(jobId, runnerToken))) return false;
    await this.stage(changes);
    return true;
  }

  /**
   * Whether `runnerToken` still runs the job. Checked before a write to the staging, which lives in another
   * collection than the job (no transactions): a runner that lost the job by then writes nothing, and one
   * that loses it right after is stopped by its next fenced job write, its batch dropped by the takeover.
   */
  private async runs(jobId: string, runnerToken: string): Promise<boolean> {
    return (await this.models.syncJobs.exists({ _id: jobId, runnerToken, state: 'running' })) !== null;
  }

  async expirePlans(finishedBefore: Date, at: Date): Promise<string[]> {
    const expiring = { ...KEPT_PLAN, finishedAt: { $lt: finishedBefore }, planExpiredAt: { $exists: false } };
    const candidates = await this.models.syncJobs
      .find(expiring, { _id: 1, appliedBy: 1 })
      .lean<{ _id: string; appliedBy?: string }[]>()
      .exec();
    const applying = await this.models.syncJobs
      .find(
        { _id: { $in: candidates.flatMap(({ appliedBy }) => appliedBy ?? []) }, activeSlot: ACTIVE_SLOT },
        { _id: 1 },
      )
      .lean<{ _id: string }[]>()
      .exec();
    const busy = new Set(applying.map(({ _id }) => _id));
    const expired: string[] = [];
    for (const { _id, appliedBy } of candidates) {
      if (appliedBy && busy.has(appliedBy)) continue;
      // Only if no apply claimed the plan since it was read.
      const marked = await this.models.syncJobs.updateOne(
        { _id, ...expiring, appliedBy: appliedBy ?? { $exists: false } },
        { $set: { planExpiredAt: at } },
      );
      if (marked.modifiedCount === 1) expired.push(_id);
    }
    return expired;
  }

  async keptPlanFinishedAt(keep: number): Promise<Date | undefined> {
    const [nth] = await this.models.syncJobs
      .find({ ...KEPT_PLAN, planExpiredAt: { $exists: false } }, { finishedAt: 1 })
      .sort({ finishedAt: -1 })
      .skip(keep - 1)
      .limit(1)
      .lean<{ finishedAt?: Date }[]>()
      .exec();
    return nth?.finishedAt;
  }

  async dropOrphanedStaging(): Promise<string[]> {
    const staged = (await this.models.stagedChanges.distinct('jobId').exec()) as string[];
    if (staged.length === 0) return [];
    const jobs = await this.models.syncJobs
      .find({ _id: { $in: staged } })
      .lean<SyncJobDocument[]>()
      .exec();
    const orphaned = jobs
      .map(withoutSlot)
      .filter((job) => !ACTIVE_STATES.includes(job.state) && (!keepsPlan(job) || job.planExpiredAt))
      .map((job) => job._id);
    if (orphaned.length > 0) await this.models.stagedChanges.deleteMany({ jobId: { $in: orphaned } });
    return [...orphaned, ...(await this.dropJoblessStaging(staged, new Set(jobs.map(({ _id }) => _id))))];
  }

  /** Staging of runs that were missing at the call before is dropped; what is missing now is marked. */
  private async dropJoblessStaging(
    staged: readonly string[],
    existing: ReadonlySet<string>,
  ): Promise<string[]> {
    const jobless = staged.filter((jobId) => !existing.has(jobId));
    if (jobless.length === 0) return [];
    const marked = { jobId: { $in: jobless }, joblessAtLastSweep: true };
    const dropped = (await this.models.stagedChanges.distinct('jobId', marked).exec()) as string[];
    if (dropped.length > 0) await this.models.stagedChanges.deleteMany(marked);
    await this.models.stagedChanges.updateMany(
      { jobId: { $in: jobless } },
      { $set: { joblessAtLastSweep: true } },
      { strict: false },
    );
    return dropped;
  }

  async removeFinished(before: Date): Promise<string[]> {
    const removable = {
      state: { $nin: ACTIVE_STATES },
      finishedAt: { $lt: before },
      $nor: [{ ...KEPT_PLAN, planExpiredAt: { $exists: false } }],
    };
    const found = await this.models.syncJobs.find(removable, { _id: 1 }).lean<{ _id: string }[]>().exec();
    const ids = found.map(({ _id }) => _id);
    if (ids.length === 0) return [];
    await this.models.stagedChanges.deleteMany({ jobId: { $in: ids } });
    await this.models.syncJobs.deleteMany({ _id: { $in: ids }, ...removable });
    return ids;
  }

  async stagedPage(jobId: string, page: StagedPage): Promise<StagedChange[]> {
    return this.models.stagedChanges
      .find(
        {
          ...stagedMatching(jobId, page),
          ...(page.after
            ? {
                $or: [
                  { username: { $gt: page.after.username } },
                  { username: page.after.username, userId: { $gt: page.after.userId } },
                ],
              }
            : {}),
        },
        { _id: 0 },
      )
      .sort({ username: 1, userId: 1 })
      .skip(page.offset ?? 0)
      .limit(page.limit)
      .lean<StagedChange[]>()
      .exec();
  }

  async dropStaged(jobId: string): Promise<void> {
    await this.models.stagedChanges.deleteMany({ jobId });
  }

  private async one(filter: object): Promise<SyncJob | undefined> {
    const job = await this.models.syncJobs.findOne(filter).lean<SyncJobDocument>().exec();
    return job ? withoutSlot(job) : undefined;
  }

  private async update(filter: object, update: object): Promise<SyncJob | undefined> {
    const job = await this.models.syncJobs
      .findOneAndUpdate(filter, update, { returnDocument: 'after' })
      .lean<SyncJobDocument>()
      .exec();
    return job ? withoutSlot(job) : undefined;
  }
}

/** Jobs that keep a plan: completed dry runs and blocked runs. */
const KEPT_PLAN = { $or: [{ dryRun: true, state: 'completed' as const }, { state: 'blocked' as const }] };

function stagedId(jobId: string, userId: string): string {
  return `${jobId}/${userId}`;
}

function withoutSlot({ activeSlot: _slot, ...job }: SyncJobDocument): SyncJob {
  return job;
}

/** A job's staged changes that `filter` selects. */
function stagedMatching(jobId: string, filter: StagedFilter) {
  return {
    jobId,
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.staleOnly ? { stale: true } : {}),
    ...(filter.losesRooms ? { 'roomsRevoked.0': { $exists: true } } : {}),
    ...(filter.usernamePrefix !== undefined
      ? { username: usernamePrefixPattern(filter.usernamePrefix) }
      : {}),
  };
}
