import { escapeRegExp } from '../escape-regexp';
import type { GuardFigures, PlannedRevocations } from './revocation-guard';
import type { StagedChange } from './staged-change';
import { emptySummary } from '../sync/sync-report';
import type {
  JobSummary,
  SyncJob,
  SyncJobActor,
  SyncJobPhase,
  SyncJobState,
  SyncJobTrigger,
} from './sync-job';

// The port for directory-wide runs: their job documents and their staged plans. The MongoDB adapter lives
// in mongo/. Every write of a running job names the runner's token, so a runner that lost the job (it
// stalled and another process took over) can no longer move it.

export interface NewSyncJob {
  _id: string;
  trigger: SyncJobTrigger;
  actor: SyncJobActor;
  dryRun: boolean;
  createdAt: Date;
  /** A run that applies the plan this job kept, instead of planning. */
  reviewedJobId?: string;
  /** An undo's plan or its apply: the change set taken back (the job's kind is then `undo`). */
  undoes?: string;
}

/** A new job as every store keeps it: queued, nothing done yet. */
export function queuedJob(job: NewSyncJob): SyncJob {
  return {
    ...job,
    kind: job.undoes ? 'undo' : 'full',
    state: 'queued',
    progress: { total: 0, processed: 0 },
    summary: emptySummary(),
    cancelRequested: false,
  };
}

/** A job blocked from the start: planned, guarded, finished, its plan kept for review. */
export function blockedJob(
  job: NewSyncJob,
  { guard, planned, at, settingsFingerprint }: BlockedOutcome,
): SyncJob {
  return {
    ...queuedJob(job),
    settingsFingerprint,
    state: 'blocked',
    phase: 'planning',
    startedAt: at,
    finishedAt: at,
    progress: { total: planned, processed: planned },
    guard,
  };
}

/** What a job blocked from the start holds: the guard's figures, its plan's size, its settings. */
export interface BlockedOutcome {
  guard: GuardFigures;
  planned: number;
  at: Date;
  settingsFingerprint: string;
}

export type CreateOutcome = { created: true; job: SyncJob } | { created: false; active: SyncJob };

/**
 * Which of a plan's staged changes: of one status, only those an apply left alone, only users who leave a
 * room (whatever their status), only usernames starting with a text (ignoring case; text, never a pattern).
 */
export interface StagedFilter {
  status?: StagedChange['status'];
  staleOnly?: boolean;
  losesRooms?: boolean;
  usernamePrefix?: string;
}

/** The usernames a `usernamePrefix` selects: those starting with it, ignoring case, read as text. */
export function usernamePrefixPattern(prefix: string): RegExp {
  return new RegExp(`^${escapeRegExp(prefix)}`, 'i');
}

/** Where a page of a plan ends: its last change's username and user id (the plan's order). */
export interface StagedPosition {
  username: string;
  userId: string;
}

export interface StagedPage extends StagedFilter {
  after?: StagedPosition;
  /** How many matching changes to skip first (the list routes' `offset`). */
  offset?: number;
  limit: number;
}

/** One batch done: where to resume after it, and what it adds to the job's counters. */
export interface JobAdvance {
  checkpoint: string;
  processed: number;
  summary: Partial<JobSummary>;
  /** What the batch's plan takes away (planning only). */
  revocations?: Partial<PlannedRevocations>;
  at: Date;
}

export interface SyncJobStore {
  /** Stores a queued job, unless a job is queued or running already: then resolves with that one. */
  createUnlessActive(job: NewSyncJob): Promise<CreateOutcome>;
  get(jobId: string): Promise<SyncJob | undefined>;
  /**
   * Stores a job that is blocked from the start (a feed batch the guard stopped): finished, holding no run
   * slot, its plan staged by the caller for review and apply.
   */
  insertBlocked(job: NewSyncJob, outcome: BlockedOutcome): Promise<SyncJob>;
  /** The queued or running job, if any. */
  active(): Promise<SyncJob | undefined>;
  /** Up to `limit` jobs, newest first, after skipping the `offset` newest. */
  newest(limit: number, offset?: number): Promise<SyncJob[]>;
  /** How many jobs there are. */
  countJobs(): Promise<number>;
  /**
   * Makes `runner.token` the runner of a queued or running job (`runner.name` says which process, for
   * people); undefined when it is finished or gone. A job still planning loses what was staged past its
   * checkpoint: a runner that died between staging a batch and recording it leaves a plan the new runner
   * makes again, and the old one must not survive beside it.
   */
  takeOver(jobId: string, runner: { token: string; name: string }, at: Date): Promise<SyncJob | undefined>;
  /** Starts a phase (total: its work; the checkpoint starts over). Undefined: the runner lost the job. */
  enterPhase(
    jobId: string,
    runnerToken: string,
    phase: SyncJobPhase,
    total: number,
    at: Date,
  ): Promise<SyncJob | undefined>;
  /** Records a batch. Undefined: the runner lost the job. */
  advance(jobId: string, runnerToken: string, step: JobAdvance): Promise<SyncJob | undefined>;
  heartbeat(jobId: string, runnerToken: string, at: Date): Promise<SyncJob | undefined>;
  /** Gives the job up for another process to resume at once (its heartbeat reads as stale). */
  release(jobId: string, runnerToken: string): Promise<SyncJob | undefined>;
  /** Ends the job and frees the run slot in one write. Undefined: the runner lost the job. */
  finish(
    jobId: string,
    runnerToken: string,
    outcome: {
      state: Exclude<SyncJobState, 'queued' | 'running'>;
      error?: SyncJob['error'];
      guard?: GuardFigures;
      /** A run that keeps its plan (dry or blocked): the settings it was made under. */
      settingsFingerprint?: string;
      /** Counts added to the job's summary (a blocked run's: what its plan would do). */
      summary?: Partial<JobSummary>;
      at: Date;
    },
  ): Promise<SyncJob | undefined>;
  /**
   * A queued job ends cancelled at once; a running one is asked to stop at its next batch. Either way `by`
   * is recorded as who asked, and `ended` is false; a finished job is left as it is, with `ended` true.
   * Undefined: no such job.
   */
  requestCancel(
    jobId: string,
    at: Date,
    by: SyncJobActor,
  ): Promise<{ job: SyncJob; ended: boolean } | undefined>;
  /** Records who discarded a blocked run's changes (the feed moves past them), and when. */
  markDiscarded(jobId: string, by: SyncJobActor, at: Date): Promise<SyncJob | undefined>;
  /** Stores staged changes; staging a user again replaces their change (a feed's blocked plan, before its job). */
  stage(changes: readonly StagedChange[]): Promise<void>;
  /**
   * Stages a planned batch of the running job `jobId` for its runner `runnerToken`; false, and nothing
   * written, when that runner has lost the job.
   */
  stageBatch(jobId: string, runnerToken: string, changes: readonly StagedChange[]): Promise<boolean>;
  /** How many changes a job staged, optionally only those matching `filter`. */
  countStaged(jobId: string, filter?: StagedFilter): Promise<number>;
  /** The job's staged changes in user id order after `afterUserId`, in batches. */
  stagedChanges(
    jobId: string,
    afterUserId: string | undefined,
    batchSize: number,
  ): AsyncIterable<StagedChange[]>;
  dropStaged(jobId: string): Promise<void>;
  /**
   * Records `applyJobId` as the run applying the plan of `reviewedJobId`, if the plan's applying run is still
   * `previous` (none: undefined) and the plan is kept and not expired: of two concurrent applies, one wins.
   */
  claimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined): Promise<boolean>;
  /** Undoes claimPlan when the applying run could not be queued (another run holds the slot). */
  unclaimPlan(reviewedJobId: string, applyJobId: string, previous: string | undefined): Promise<void>;
  /**
   * Marks staged changes of a reviewed plan that were skipped because the user changed since, for the
   * applying run's current runner `applier`; false, and nothing written, when that runner has lost its job.
   */
  markStale(
    jobId: string,
    userIds: readonly string[],
    applier: { jobId: string; runnerToken: string },
  ): Promise<boolean>;
  /**
   * Marks the kept plans of runs that finished before `finishedBefore` as expired (at `at`) and resolves
   * with their job ids (the caller drops their staged changes). A plan that the active run is applying is
   * kept until that run ends.
   */
  expirePlans(finishedBefore: Date, at: Date): Promise<string[]>;
  /** The finish time of the `keep`-th newest kept plan that has not expired; undefined when there are fewer. */
  keptPlanFinishedAt(keep: number): Promise<Date | undefined>;
  /**
   * Drops the staging of finished runs that keep no plan (left behind when the drop at a run's end failed),
   * and the staging of runs that do not exist and did not at the call before (a feed's blocked plan is
   * staged just before its run is stored, which may fail); resolves with their ids.
   */
  dropOrphanedStaging(): Promise<string[]>;
  /**
   * Removes the runs that finished before `before`, with their staging, except kept plans that have not
   * expired (and so never one an apply is using); resolves with their ids.
   */
  removeFinished(before: Date): Promise<string[]>;
  /**
   * One page of a job's staged changes that `page` selects, in username order (binary, as MongoDB compares
   * without a collation; ties by user id), after `page.after`.
   */
  stagedPage(jobId: string, page: StagedPage): Promise<StagedChange[]>;
}
