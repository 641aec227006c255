import {
  blockedJob,
  type BlockedOutcome,
  queuedJob,
  type CreateOutcome,
  type JobAdvance,
  type NewSyncJob,
  type StagedFilter,
  type StagedPosition,
  type StagedPage,
  type SyncJobStore,
  usernamePrefixPattern,
} from '../../lib/jobs/job-store';
import type { StagedChange } from '../../lib/jobs/staged-change';
import {
  ACTIVE_STATES,
  keepsPlan,
  type JobSummary,
  type SyncJob,
  type SyncJobActor,
  type SyncJobPhase,
} from '../../lib/jobs/sync-job';

/**
 * The job store in memory, for unit tests of a run without servers. Same contract as the MongoDB adapter
 * (the contract test runs both): one active job, writes of a running job only by its runner's token, staged
 * changes in user id order. Tests reach into `jobs` and `staged`, and can hand a job to another runner.
 */
export class MemorySyncJobStore implements SyncJobStore {
  readonly jobs = new Map<string, SyncJob>();
  readonly staged = new Map<string, StagedChange>();
  /** The runs missing, with staging, at the last dropOrphanedStaging. */
  private joblessAtLastSweep = new Set<string>();

  async createUnlessActive(job: NewSyncJob): Promise<CreateOutcome> {
    const active = await this.active();
    if (active) return { created: false, active };
    const created = queuedJob(job);
    this.jobs.set(job._id, created);
    return { created: true, job: copy(created) };
  }

  async insertBlocked(job: NewSyncJob, outcome: BlockedOutcome) {
    const blocked = blockedJob(job, outcome);
    this.jobs.set(job._id, blocked);
    return copy(blocked);
  }

  async get(jobId: string) {
    const job = this.jobs.get(jobId);
    return job && copy(job);
  }

  async active() {
    const job = [...this.jobs.values()].find((candidate) => ['queued', 'running'].includes(candidate.state));
    return job && copy(job);
  }

  async newest(limit: number, offset = 0) {
    return [...this.jobs.values()]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : -1))
      .slice(offset, offset + limit)
      .map(copy);
  }

  async countJobs() {
    return this.jobs.size;
  }

  async takeOver(jobId: string, runner: { token: string; name: string }, at: Date) {
    const job = this.jobs.get(jobId);
    if (!job || !['queued', 'running'].includes(job.state)) return undefined;
    if (!job.startedAt) job.startedAt = at;
    Object.assign(job, { state: 'running', runnerToken: runner.token, runner: runner.name, heartbeatAt: at });
    if (job.phase !== 'applying')
      for (const [key, change] of this.staged)
        if (change.jobId === jobId && (job.checkpoint === undefined || change.userId > job.checkpoint))
          this.staged.delete(key);
    return copy(job);
  }

  async enterPhase(jobId: string, runnerToken: string, phase: SyncJobPhase, total: number, at: Date) {
    return this.update(jobId, runnerToken, (job) => {
      Object.assign(job, { phase, progress: { total, processed: 0 }, heartbeatAt: at });
      delete job.checkpoint;
    });
  }

  async advance(jobId: string, runnerToken: string, step: JobAdvance) {
    return this.update(jobId, runnerToken, (job) => {
      job.checkpoint = step.checkpoint;
      job.heartbeatAt = step.at;
      job.progress.processed += step.processed;
      for (const [counter, value] of Object.entries(step.summary))
        job.summary[counter as keyof SyncJob['summary']] =
          (job.summary[counter as keyof SyncJob['summary']] ?? 0) + (value ?? 0);
      const planned = (job.planned ??= {});
      for (const [counter, value] of Object.entries(step.revocations ?? {})) {
        const key = counter as keyof typeof planned;
        if (value) planned[key] = (planned[key] ?? 0) + value;
      }
    });
  }

  async heartbeat(jobId: string, runnerToken: string, at: Date) {
    return this.update(jobId, runnerToken, (job) => {
      job.heartbeatAt = at;
    });
  }

  async release(jobId: string, runnerToken: string) {
    return this.update(jobId, runnerToken, (job) => {
      delete job.runnerToken;
      delete job.heartbeatAt;
    });
  }

  async finish(
    jobId: string,
    runnerToken: string,
    outcome: {
      state: 'completed' | 'failed' | 'cancelled' | 'blocked';
      error?: SyncJob['error'];
      guard?: SyncJob['guard'];
      settingsFingerprint?: string;
      summary?: Partial<JobSummary>;
      at: Date;
    },
  ) {
    return this.update(jobId, runnerToken, (job) => {
      Object.assign(job, { state: outcome.state, finishedAt: outcome.at, heartbeatAt: outcome.at });
      const summary = job.summary as Record<string, number>;
      for (const [name, count] of Object.entries(outcome.summary ?? {}))
        if (count) summary[name] = (summary[name] ?? 0) + count;
      if (outcome.error) job.error = outcome.error;
      if (outcome.guard) job.guard = outcome.guard;
      if (outcome.settingsFingerprint) job.settingsFingerprint = outcome.settingsFingerprint;
      delete job.checkpoint;
    });
  }

  async requestCancel(jobId: string, at: Date, by: SyncJobActor) {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    if (job.state === 'queued')
      Object.assign(job, { state: 'cancelled', cancelRequested: true, cancelledBy: by, finishedAt: at });
    else if (job.state === 'running') Object.assign(job, { cancelRequested: true, cancelledBy: by });
    else return { job: copy(job), ended: true };
    return { job: copy(job), ended: false };
  }

  async markDiscarded(jobId: string, by: SyncJobActor, at: Date) {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    Object.assign(job, { discardedBy: by, discardedAt: at });
    return copy(job);
  }

  async stage(changes: readonly StagedChange[]) {
    for (const change of changes)
      this.staged.set(`${change.jobId}/${change.userId}`, structuredClone(change));
  }

  async countStaged(jobId: string, filter: StagedFilter = {}) {
    return [...this.staged.values()].filter((change) => matches(change, jobId, filter)).length;
  }

  async *stagedChanges(jobId: string, afterUserId: string | undefined, batchSize: number) {
    const changes = [...this.staged.values()]
      .filter(
        (change) => change.jobId === jobId && (afterUserId === undefined || change.userId > afterUserId),
      )
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
    for (let start = 0; start < changes.length; start += batchSize)
      yield changes.slice(start, start + batchSize).map((change) => structuredClone(change));
  }

  async claimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined) {
    const job = this.jobs.get(reviewedJobId);
    if (!job || !keepsPlan(job) || job.planExpiredAt || job.appliedBy !== previous) return false;
    job.appliedBy = applyJobId;
    return true;
  }

  async unclaimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined) {
    const job = this.jobs.get(reviewedJobId);
    if (job?.appliedBy !== applyJobId) return;
    if (previous === undefined) delete job.appliedBy;
    else job.appliedBy = previous;
  }

  async markStale(
    jobId: string,
    userIds: readonly string[],
    applier: { jobId: string; runnerToken: string },
  ) {
    if (!this.runs(applier.jobId, applier.runnerToken)) return false;
    for (const userId of userIds) {
      const change = this.staged.get(`${jobId}/${userId}`);
      if (change) change.stale = true;
    }
    return true;
  }

  async stageBatch(jobId: string, runnerToken: string, changes: readonly StagedChange[]) {
    if (!this.runs(jobId, runnerToken)) return false;
    await this.stage(changes);
    return true;
  }

  private runs(jobId: string, runnerToken: string): boolean {
    const job = this.jobs.get(jobId);
    return job?.runnerToken === runnerToken && job.state === 'running';
  }

  async expirePlans(finishedBefore: Date, at: Date) {
    const applying = (job: SyncJob) =>
      !!job.appliedBy && ['queued', 'running'].includes(this.jobs.get(job.appliedBy)?.state ?? '');
    const expired = [...this.jobs.values()].filter(
      (job) =>
        keepsPlan(job) &&
        job.finishedAt &&
        job.finishedAt < finishedBefore &&
        !job.planExpiredAt &&
        !applying(job),
    );
    for (const job of expired) job.planExpiredAt = at;
    return expired.map((job) => job._id);
  }

  async keptPlanFinishedAt(keep: number) {
    return [...this.jobs.values()]
      .filter((job) => keepsPlan(job) && !job.planExpiredAt)
      .map((job) => job.finishedAt!)
      .sort((a, b) => b.getTime() - a.getTime())[keep - 1];
  }

  async dropOrphanedStaging() {
    const orphaned = new Set<string>();
    for (const change of this.staged.values()) {
      const job = this.jobs.get(change.jobId);
      if (job && !ACTIVE_STATES.includes(job.state) && (!keepsPlan(job) || job.planExpiredAt))
        orphaned.add(job._id);
    }
    for (const jobId of orphaned) await this.dropStaged(jobId);
    const jobless = new Set(
      [...this.staged.values()].map(({ jobId }) => jobId).filter((id) => !this.jobs.has(id)),
    );
    const dropped = [...this.joblessAtLastSweep].filter((id) => jobless.has(id));
    for (const jobId of dropped) await this.dropStaged(jobId);
    this.joblessAtLastSweep = new Set([...jobless].filter((id) => !dropped.includes(id)));
    return [...orphaned, ...dropped];
  }

  async removeFinished(before: Date) {
    const removed = [...this.jobs.values()]
      .filter(
        (job) =>
          !ACTIVE_STATES.includes(job.state) &&
          job.finishedAt !== undefined &&
          job.finishedAt < before &&
          !(keepsPlan(job) && !job.planExpiredAt),
      )
      .map((job) => job._id);
    for (const jobId of removed) {
      this.jobs.delete(jobId);
      await this.dropStaged(jobId);
    }
    return removed;
  }

  async stagedPage(jobId: string, page: StagedPage) {
    return [...this.staged.values()]
      .filter(
        (change) =>
          matches(change, jobId, page) && (page.after === undefined || compareStaged(change, page.after) > 0),
      )
      .sort(compareStaged)
      .slice(page.offset ?? 0, (page.offset ?? 0) + page.limit)
      .map((change) => structuredClone(change));
  }

  async dropStaged(jobId: string) {
    for (const [key, change] of this.staged) if (change.jobId === jobId) this.staged.delete(key);
  }

  /** Another process takes the job over: this one's token no longer holds it. */
  handToAnotherRunner(jobId: string) {
    const job = this.jobs.get(jobId);
    if (job) job.runnerToken = 'another-runner';
  }

  private update(jobId: string, runnerToken: string, change: (job: SyncJob) => void) {
    const job = this.jobs.get(jobId);
    if (!job || job.runnerToken !== runnerToken || job.state !== 'running') return Promise.resolve(undefined);
    change(job);
    return Promise.resolve(copy(job));
  }
}

function copy(job: SyncJob): SyncJob {
  return structuredClone(job);
}

function matches(change: StagedChange, jobId: string, filter: StagedFilter): boolean {
  return (
    change.jobId === jobId &&
    (filter.status === undefined || change.status === filter.status) &&
    (!filter.staleOnly || change.stale === true) &&
    (!filter.losesRooms || change.roomsRevoked.length > 0) &&
    (filter.usernamePrefix === undefined ||
      usernamePrefixPattern(filter.usernamePrefix).test(change.username))
  );
}

/** The plan's order: username, then user id. */
function compareStaged(a: StagedPosition, b: StagedPosition): number {
  if (a.username !== b.username) return a.username < b.username ? -1 : 1;
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}
