import { z } from 'zod';
import type { Clock } from '../clock';
import {
  InvalidParamsError,
  SyncAlreadyRunningError,
  SyncJobEndedError,
  SyncJobNotFoundError,
  SyncPlanAlreadyAppliedError,
  SyncPlanExpiredError,
  SyncPlanNotReviewableError,
  SyncPlanRunningError,
} from '../errors';
import type { StagedChange } from './staged-change';
import type { Logger } from '../logger';
import { randomId } from '../random-id';
import type { StagedFilter, StagedPosition, SyncJobStore } from './job-store';
import type { UndoStore } from '../undo/undo-store';
import { checkPlanFresh } from './plan-freshness';
import { PlanTally, type PlanSummary } from './plan-summary';
import type { SyncConfiguration } from '../sync/sync-configuration';
import {
  ACTIVE_STATES,
  actorName,
  jobView,
  keepsPlan,
  type SyncJob,
  type SyncJobActor,
  type SyncJobTrigger,
} from './sync-job';
import { numberSetting, SETTING_DEFAULTS, type SettingsSnapshot, type SettingsSource } from '../settings';

const DEFAULT_PLAN_RETENTION_MINUTES = SETTING_DEFAULTS.ABAC_Sync_Plan_Retention_Minutes;

/** Where a queued job goes to be run by exactly one process (agenda in production). */
export interface RunQueue {
  /** Idempotent: enqueuing a job already queued or running changes nothing but its due time. */
  enqueue(jobId: string): Promise<void>;
}

export interface SyncJobsPorts {
  jobs: SyncJobStore;
  /** Swept with the runs: its entries go after ABAC_Sync_Undo_Retention_Days. */
  undoJournal: Pick<UndoStore, 'removeBefore'>;
  /** ABAC_Sync_Plan_Retention_Minutes is read from these. */
  settings: SettingsSource;
  queue: RunQueue;
  /**
   * Throws the 400 errors when the settings do not allow a sync (ABAC or LDAP off, unusable settings);
   * resolves with the configuration they give.
   */
  checkSettings: () => Promise<SyncConfiguration>;
  clock: Clock;
  logger: Logger;
}

export interface StartRun {
  trigger: SyncJobTrigger;
  /** The admin who asks; none for the schedule and the CLI (the system is the actor). */
  admin?: { _id: string; username: string };
  dryRun: boolean;
}

/** Directory-wide runs as the routes, the schedule and the CLI use them. */
export class SyncJobs {
  constructor(private readonly ports: SyncJobsPorts) {}

  /** Queues a run; throws SyncAlreadyRunningError (with that job) while another is queued or running. */
  async start(request: StartRun): Promise<SyncJob> {
    await this.ports.checkSettings();
    return this.queue(randomId(), request);
  }

  /**
   * Queues a run that plans the undo of `changeSet` and keeps the plan for review (a dry run of kind
   * `undo`); throws SyncAlreadyRunningError while another run is queued or running.
   */
  async startUndo(changeSet: string, request: Omit<StartRun, 'dryRun'>): Promise<SyncJob> {
    await this.ports.checkSettings();
    return this.queue(randomId(), { ...request, dryRun: true, undoes: changeSet });
  }

  /**
   * Queues a run that applies the plan a completed dry run or a blocked run kept, as reviewed (no new
   * reading of the directory). 409s: the job keeps no plan, the plan expired, it is being applied, it was
   * applied; and SyncAlreadyRunningError while any other run holds the slot.
   */
  async apply(reviewedJobId: string, request: Omit<StartRun, 'dryRun'>): Promise<SyncJob> {
    const { jobs, settings, clock, logger } = this.ports;
    const configuration = await this.ports.checkSettings();
    const reviewed = await this.get(reviewedJobId);
    await this.checkApplicable(reviewed);
    checkPlanFresh(reviewed, configuration, await settings.current(), clock.now());
    const _id = randomId();
    if (!(await jobs.claimPlan(reviewedJobId, _id, reviewed.appliedBy))) {
      // Another apply (or the retention sweep) got there first: say which.
      const now = await this.get(reviewedJobId);
      await this.checkApplicable(now);
      throw new SyncPlanRunningError(now.appliedBy);
    }
    try {
      const job = await this.queue(_id, {
        ...request,
        dryRun: false,
        reviewedJobId,
        ...(reviewed.undoes ? { undoes: reviewed.undoes } : {}),
      });
      logger.info(
        { jobId: _id, reviewedJobId, trigger: request.trigger },
        'reviewed sync plan to be applied',
      );
      return job;
    } catch (error) {
      await jobs.unclaimPlan(reviewedJobId, _id, reviewed.appliedBy);
      throw error;
    }
  }

  /** Throws the 409 that says why the job's plan cannot be read, if it cannot: none kept, or expired. */
  private async checkReviewable(job: SyncJob): Promise<void> {
    if (!keepsPlan(job)) throw new SyncPlanNotReviewableError();
    if (job.planExpiredAt || (await this.expired(job))) throw new SyncPlanExpiredError();
  }

  /** Throws the 409 that says why the job's plan cannot be applied now, if it cannot. */
  private async checkApplicable(job: SyncJob): Promise<void> {
    await this.checkReviewable(job);
    if (!job.appliedBy) return;
    const applying = await this.ports.jobs.get(job.appliedBy);
    // An apply that failed or was cancelled may be retried: users it reached hold the planned value already.
    if (applying?.state === 'completed') throw new SyncPlanAlreadyAppliedError(applying._id);
    if (applying && ACTIVE_STATES.includes(applying.state)) throw new SyncPlanRunningError(applying._id);
  }

  private async queue(
    _id: string,
    request: StartRun & { reviewedJobId?: string; undoes?: string },
  ): Promise<SyncJob> {
    const { jobs, queue, clock, logger } = this.ports;
    const outcome = await jobs.createUnlessActive({
      _id,
      trigger: request.trigger,
      actor: request.admin
        ? { type: 'user', _id: request.admin._id, username: request.admin.username }
        : { type: 'system', jobId: _id },
      dryRun: request.dryRun,
      createdAt: new Date(clock.now()),
      ...(request.reviewedJobId ? { reviewedJobId: request.reviewedJobId } : {}),
      ...(request.undoes ? { undoes: request.undoes } : {}),
    });
    if (!outcome.created) {
      // A queued job may have lost its queue entry (a crash between the two writes): enqueue it again. Not a
      // running one: saving its entry again clears agenda's lock, and another process would take the run
      // over from a live runner (a stalled runner's job is re-queued by the maintenance pass instead).
      if (outcome.active.state === 'queued') await queue.enqueue(outcome.active._id);
      throw new SyncAlreadyRunningError(jobView(outcome.active));
    }
    await queue.enqueue(_id);
    logger.info(
      { jobId: _id, trigger: request.trigger, dryRun: request.dryRun },
      'directory-wide sync run queued',
    );
    return outcome.job;
  }

  async get(jobId: string): Promise<SyncJob> {
    const job = await this.ports.jobs.get(jobId);
    if (!job) throw new SyncJobNotFoundError();
    return job;
  }

  /** Up to `count` runs, newest first, after the `offset` newest; with how many there are in all. */
  async list(count: number, offset = 0): Promise<{ jobs: SyncJob[]; total: number }> {
    const [jobs, total] = await Promise.all([
      this.ports.jobs.newest(count, offset),
      this.ports.jobs.countJobs(),
    ]);
    return { jobs, total };
  }

  /** What the plan a job kept does, by attribute value and by room (read through the whole plan). */
  async planSummary(jobId: string): Promise<PlanSummary> {
    const job = await this.get(jobId);
    await this.checkReviewable(job);
    const tally = new PlanTally();
    for await (const changes of this.ports.jobs.stagedChanges(jobId, undefined, 1000)) tally.add(changes);
    return tally.summary();
  }

  /**
   * One page of the plan a completed dry run or a blocked run kept, in username order, after a cursor or an
   * offset; `nextCursor` reads the page after it (stable: a cursor is the last change shown), and `total`
   * counts the changes the filters select.
   */
  async changes(
    jobId: string,
    page: {
      status?: StagedChange['status'];
      stale?: boolean;
      losesRooms?: boolean;
      username?: string;
      cursor?: string;
      offset?: number;
      limit: number;
    },
  ): Promise<{ changes: StagedChange[]; nextCursor?: string; total: number }> {
    await this.checkReviewable(await this.get(jobId));
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const filter: StagedFilter = {
      ...(page.status ? { status: page.status } : {}),
      ...(page.stale ? { staleOnly: true } : {}),
      ...(page.losesRooms ? { losesRooms: true } : {}),
      ...(page.username !== undefined ? { usernamePrefix: page.username } : {}),
    };
    const [found, total] = await Promise.all([
      this.ports.jobs.stagedPage(jobId, {
        ...filter,
        ...(after ? { after } : {}),
        ...(page.offset ? { offset: page.offset } : {}),
        limit: page.limit + 1,
      }),
      this.ports.jobs.countStaged(jobId, filter),
    ]);
    const changes = found.slice(0, page.limit);
    const last = changes.at(-1);
    return found.length > page.limit && last
      ? { changes, nextCursor: encodeCursor(last), total }
      : { changes, total };
  }

  /**
   * Removes the kept plans older than ABAC_Sync_Plan_Retention_Minutes, and those past the newest
   * ABAC_Sync_Plans_Kept_Max (read from `settings`, the snapshot the caller already holds); resolves with
   * their job ids.
   */
  async expirePlans(settings: SettingsSnapshot): Promise<string[]> {
    const { jobs, clock, logger } = this.ports;
    const now = clock.now();
    const byAge = new Date(now - planRetentionMs(settings));
    const byCount = await jobs.keptPlanFinishedAt(
      boundedSetting(settings.ABAC_Sync_Plans_Kept_Max, KEPT_PLANS),
    );
    // Past either bound: the later of the two cut-offs.
    const before = byCount && byCount > byAge ? byCount : byAge;
    const expired = await jobs.expirePlans(before, new Date(now));
    for (const jobId of expired) await jobs.dropStaged(jobId);
    if (expired.length > 0) logger.info({ jobIds: expired }, 'expired sync plans removed');
    return expired;
  }

  /**
   * The housekeeping every process does on its maintenance pass (no TTL index needed): expires plans, drops
   * staging a finished run left behind, removes runs finished more than ABAC_Sync_Job_Retention_Days ago and
   * the undo journal's entries older than ABAC_Sync_Undo_Retention_Days. Resolves with the ids of the runs
   * removed (their queue entries go too).
   */
  async sweep(settings: SettingsSnapshot): Promise<string[]> {
    const { jobs, undoJournal, clock, logger } = this.ports;
    await this.expirePlans(settings);
    const undoDays = boundedSetting(settings.ABAC_Sync_Undo_Retention_Days, UNDO_RETENTION_DAYS);
    const forgotten = await undoJournal.removeBefore(new Date(clock.now() - undoDays * 86_400_000));
    if (forgotten > 0)
      logger.info({ entries: forgotten }, 'undo journal entries removed after their retention');
    const orphaned = await jobs.dropOrphanedStaging();
    if (orphaned.length > 0)
      logger.info({ jobIds: orphaned }, 'staging left behind by finished or never-stored runs removed');
    const days = boundedSetting(settings.ABAC_Sync_Job_Retention_Days, JOB_RETENTION_DAYS);
    const removed = await jobs.removeFinished(new Date(clock.now() - days * 86_400_000));
    if (removed.length > 0)
      logger.info({ jobIds: removed }, 'finished sync runs removed after their retention');
    return removed;
  }

  private async expired(job: SyncJob): Promise<boolean> {
    if (!job.finishedAt) return false;
    const retentionMs = planRetentionMs(await this.ports.settings.current());
    return job.finishedAt.getTime() + retentionMs < this.ports.clock.now();
  }

  /** Asks a run to stop (a queued one ends at once), recording `by` as who asked. */
  async cancel(jobId: string, by: SyncJobActor): Promise<SyncJob> {
    const outcome = await this.ports.jobs.requestCancel(jobId, new Date(this.ports.clock.now()), by);
    if (!outcome) throw new SyncJobNotFoundError();
    const { job, ended } = outcome;
    if (ended) throw new SyncJobEndedError(jobView(job));
    this.ports.logger.info(
      { jobId, state: job.state, by: actorName(by) },
      'directory-wide sync run cancel requested',
    );
    return job;
  }

  /** The queued or running job, when its runner has shown no sign of life for `staleAfterMs`. */
  async stalled(staleAfterMs: number): Promise<SyncJob | undefined> {
    const job = await this.ports.jobs.active();
    if (!job) return undefined;
    const lastSign = (job.heartbeatAt ?? job.createdAt).getTime();
    return this.ports.clock.now() - lastSign > staleAfterMs ? job : undefined;
  }
}

/** A cursor: the position of a page's last change, as base64url JSON. */
function encodeCursor({ username, userId }: StagedPosition): string {
  return Buffer.from(JSON.stringify([username, userId]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): StagedPosition {
  const position = cursorSchema.safeParse(parseJson(Buffer.from(cursor, 'base64url').toString('utf8')));
  if (!position.success || encodeCursor(position.data) !== cursor)
    throw new InvalidParamsError([{ path: 'cursor', message: 'must be a cursor this route returned' }]);
  return position.data;
}

const cursorSchema = z
  .tuple([z.string(), z.string().min(1)])
  .transform(([username, userId]) => ({ username, userId }));

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const KEPT_PLANS = { fallback: SETTING_DEFAULTS.ABAC_Sync_Plans_Kept_Max, max: 1000 };
const JOB_RETENTION_DAYS = { fallback: SETTING_DEFAULTS.ABAC_Sync_Job_Retention_Days, max: 3650 };
const UNDO_RETENTION_DAYS = { fallback: SETTING_DEFAULTS.ABAC_Sync_Undo_Retention_Days, max: 3650 };

/** A whole number from 1 to `max`; anything else reads as the default. */
function boundedSetting(value: unknown, { fallback, max }: { fallback: number; max: number }): number {
  const number = numberSetting(value);
  return number !== undefined && Number.isInteger(number) && number >= 1 && number <= max ? number : fallback;
}

function planRetentionMs(settings: SettingsSnapshot): number {
  const minutes = numberSetting(settings.ABAC_Sync_Plan_Retention_Minutes);
  return (minutes !== undefined && minutes > 0 ? minutes : DEFAULT_PLAN_RETENTION_MINUTES) * 60_000;
}
