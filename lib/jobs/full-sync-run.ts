import { performance } from 'node:perf_hooks';
import { DeferredWork } from '../deferred-work';
import { errorFields } from '../error-fields';
import type { Clock } from '../clock';
import { SyncPlanExpiredError, type AbacSyncError } from '../errors';
import { switchedOff } from '../sync/sync-configuration';
import { reportedError } from '../reported-error';
import type { Logger } from '../logger';
import type { RunOutcome, SyncMetrics } from '../metrics';
import type { AbacLdapSyncService } from '../sync/abac-ldap-sync-service';
import { PhaseTimer } from '../sync/phase-timer';
import type { EntryMap, ReadEntryMap } from '../sync/entry-map';
import type { SyncConfiguration } from '../sync/sync-configuration';
import { prefetched, readAhead } from './prefetched';
import { readRunDirectory } from './run-directory-read';
import { needsClaim, type KnownRooms, type ResolvedMatch } from '../sync/sync-plan';
import type { SyncStore } from '../sync/sync-store';
import type { SyncActor } from '../sync/audit-events';
import type { JobAdvance, SyncJobStore } from './job-store';
import { HeldRun, Lease, RunLostError, RunStoppedError } from './held-run';
import {
  appliedResult,
  countResults,
  planOfStaged,
  revocationsOf,
  stagedChangeOf,
  type ApplicablePlan,
} from './run-plan';
import { guardThresholds, type GuardFigures, type PlannedRevocations } from './revocation-guard';
import type { RevocationBudget } from './revocation-budget';
import { checkPlanFresh, settingsFingerprint } from './plan-freshness';
import type { SettingsSource } from '../settings';
import type { JobSummary, SyncJob } from './sync-job';
import type { UserSyncResult } from '../sync/sync-report';
import { undoCounts, type UndoPlanner } from '../undo/undo-planner';

export interface FullSyncRunPorts {
  engine: AbacLdapSyncService;
  /**
   * The guard's thresholds are read from these when planning ends; ABAC_Enabled and LDAP_Enable after every
   * batch (either off stops the run).
   */
  settings: SettingsSource;
  store: SyncStore;
  jobs: SyncJobStore;
  /** Judges the plan with what unattended syncs revoked in the window before it. */
  budget: RevocationBudget;
  /** Where a run reading the whole subtree keeps its map (absent: in this thread, through the engine). */
  readEntryMap?: ReadEntryMap;
  /** Plans undos (runs of kind `undo`); without it such a run fails. */
  undo?: UndoPlanner;
  clock: Clock;
  logger: Logger;
  metrics: SyncMetrics;
}

export interface FullSyncRunOptions {
  /** Users read, matched to their entries and planned together (when looked up, in OR filters of 250). */
  planBatchSize: number;
  /** Staged changes applied together (each batch's users read just before it is written). */
  applyBatchSize: number;
  /**
   * How planning reads the directory: `subtree` (the default), the users' identifiers while one paged read
   * of the whole user subtree makes a map of entries by identifier, then the users streamed once (it falls
   * back to lookups when a server size limit cuts the read short); `lookups`, OR filters of 250 users per
   * batch, overlapped with the next batch's MongoDB read. Measured at 100,000 users, the map was the faster
   * and put a third of the load on the directory server (see docs/performance.md).
   */
  directoryRead: 'subtree' | 'lookups';
  /** How often the runner shows it is alive (job.heartbeatAt, and the queue's lock). */
  heartbeatMs: number;
}

export const DEFAULT_RUN_OPTIONS: FullSyncRunOptions = {
  planBatchSize: 1000,
  applyBatchSize: 1000,
  directoryRead: 'subtree',
  heartbeatMs: 1000,
};

/** Keeps the queue's lock on the run (agenda's touch); called with every heartbeat. */
export type KeepAlive = () => Promise<void>;

/** A run plans entries without mapped values; the mass-revocation guard judges the whole plan instead. */
const RUN_GUARD = { refuseUnmappedEntries: false };

/** The plan revokes too much: the run stops before applying anything, for an admin to review. */
class RunBlockedError extends Error {
  constructor(
    readonly guard: GuardFigures,
    readonly settingsFingerprint: string,
    /** What the blocked plan would do: its staged users' counts, which planning did not count. */
    readonly planned: Partial<JobSummary>,
  ) {
    super('the plan revokes too much');
  }
}

/** An admin asked the run to stop: it ends at this batch boundary. */
class RunCancelledError extends Error {}
/** ABAC_Enabled or LDAP_Enable was switched off (the emergency stop): the run ends at this batch boundary. */
class RunSwitchedOffError extends Error {
  constructor(readonly reason: AbacSyncError) {
    super(reason.message);
  }
}

/** How a run ends: its state, and for a blocked run or a dry run what its kept plan needs. */
interface Ending {
  state: RunOutcome;
  error?: SyncJob['error'];
  guard?: GuardFigures;
  settingsFingerprint?: string;
  /** Counts added to the run's summary as it ends (a blocked run's: what its plan would do). */
  summary?: Partial<JobSummary>;
}

/**
 * Runs one directory-wide sync job to its end, or resumes it from its checkpoint: first every active LDAP
 * user is read in `_id` order, matched to their entry and planned, and the changes are staged (nothing else
 * is written, so a fault while planning changes nothing); then the staged changes are applied in batches,
 * through the same engine as a named-users request (written without claims, conditioned on the user as
 * read). Every batch moves the job's checkpoint and counters in one write that only the current runner may
 * make.
 */
export class FullSyncRun {
  constructor(
    private readonly ports: FullSyncRunPorts,
    private readonly options: FullSyncRunOptions = DEFAULT_RUN_OPTIONS,
  ) {}

  /** Resolves with the job as this process left it; undefined when it was finished or held elsewhere. */
  async drive(jobId: string, keepAlive?: KeepAlive, stop?: AbortSignal): Promise<SyncJob | undefined> {
    const { jobs, clock, logger } = this.ports;
    const taken = await HeldRun.take(jobs, clock, jobId);
    if (!taken) return undefined;
    const { run } = taken;
    const lease = new Lease({
      beat: async () => (await Promise.all([run.heartbeat(), keepAlive?.()]))[0],
      everyMs: this.options.heartbeatMs,
      logger,
      jobId,
      ...(stop ? { stop } : {}),
    });
    const started = performance.now();
    const timer = new PhaseTimer();
    logger.info(
      {
        jobId,
        trigger: taken.job.trigger,
        dryRun: taken.job.dryRun,
        phase: taken.job.phase,
        resumed: !!taken.job.checkpoint,
      },
      'directory-wide sync run started',
    );
    let job = taken.job;
    const end = (outcome: Ending) => this.end(job, run, outcome, started, timer);
    try {
      // A dry run keeps its plan: the guard's figures and the settings it was made under go with it.
      let kept: { guard?: GuardFigures; settingsFingerprint: string } | undefined;
      if (job.reviewedJobId) {
        if (job.phase !== 'applying') job = await this.enterReviewedPlan(job, job.reviewedJobId, run);
      } else if (job.undoes) ({ job, kept } = await this.planUndo(job, job.undoes, run, lease));
      else if (job.phase !== 'applying') ({ job, kept } = await this.planAll(job, run, lease, timer));
      if (!job.dryRun) job = await this.applyAll(job, run, lease, timer);
      return await end({ state: 'completed', ...(job.dryRun && kept ? kept : {}) });
    } catch (error) {
      if (error instanceof RunLostError) {
        logger.warn({ jobId }, 'directory-wide sync run taken over by another process; this one stopped');
        return undefined;
      }
      if (error instanceof RunStoppedError) {
        await run.release();
        logger.info({ jobId }, 'directory-wide sync run left for another process: this one is stopping');
        return undefined;
      }
      if (error instanceof RunBlockedError) {
        logger.warn(
          { jobId, trigger: job.trigger, ...error.guard },
          'directory-wide sync run blocked: its plan takes values from too many users; nothing was applied',
        );
        const { guard, settingsFingerprint, planned } = error;
        return await end({ state: 'blocked', guard, settingsFingerprint, summary: planned });
      }
      if (error instanceof RunCancelledError) return await end({ state: 'cancelled' });
      if (error instanceof RunSwitchedOffError) {
        logger.warn({ jobId, code: error.reason.code }, 'directory-wide sync run stopped: switched off');
        const { code, message } = error.reason;
        return await end({
          state: 'cancelled',
          error: { code, message: `Stopped at a batch boundary: ${message}` },
        });
      }
      const reported = reportedError(error, 'The run');
      logger.error({ jobId, code: reported.code, err: errorFields(error) }, 'directory-wide sync run failed');
      return await end({ state: 'failed', error: reported });
    } finally {
      lease.end();
    }
  }

  /**
   * An undo's planning (a dry run of kind `undo`): the change set's users in batches after the checkpoint,
   * each planned from the undo journal and staged for review.
   */
  private async planUndo(
    job: SyncJob,
    changeSet: string,
    run: HeldRun,
    lease: Lease,
  ): Promise<{ job: SyncJob; kept: { settingsFingerprint: string } }> {
    const { undo, engine, logger } = this.ports;
    if (!undo) throw new Error('this process was wired without an undo planner');
    const userIds = await undo.usersOf(changeSet);
    if (job.checkpoint === undefined) job = await run.enterPhase('planning', userIds.length);
    logger.info({ jobId: job._id, undoes: changeSet, users: userIds.length }, 'undo: planning');
    const configuration = await engine.configuration();
    const after = job.checkpoint;
    const remaining = after === undefined ? userIds : userIds.filter((userId) => userId > after);
    for (let start = 0; start < remaining.length; start += this.options.planBatchSize) {
      lease.check();
      const batch = remaining.slice(start, start + this.options.planBatchSize);
      const changes = await undo.planBatch(job._id, changeSet, batch);
      await run.stage(changes);
      job = await this.advance(run, batch.at(-1)!, batch.length, undoCounts(changes));
    }
    return { job, kept: { settingsFingerprint: settingsFingerprint(configuration) } };
  }

  private async planAll(
    job: SyncJob,
    run: HeldRun,
    lease: Lease,
    timer: PhaseTimer,
  ): Promise<{ job: SyncJob; kept?: { guard: GuardFigures; settingsFingerprint: string } }> {
    const { engine, store, logger } = this.ports;
    if (job.checkpoint === undefined) job = await run.enterPhase('planning', await store.countLdapSubjects());
    logger.info({ jobId: job._id, users: job.progress.total }, 'directory-wide sync run: planning');
    const configuration = await engine.configuration(timer);
    const map =
      this.options.directoryRead === 'subtree'
        ? await readRunDirectory(this.ports, job, configuration, timer, this.options.planBatchSize)
        : undefined;
    try {
      return await this.planBatches(job, run, lease, timer, configuration, map);
    } finally {
      await map?.close();
    }
  }

  private async planBatches(
    job: SyncJob,
    run: HeldRun,
    lease: Lease,
    timer: PhaseTimer,
    configuration: SyncConfiguration,
    map: EntryMap | undefined,
  ): Promise<{ job: SyncJob; kept?: { guard: GuardFigures; settingsFingerprint: string } }> {
    const { engine, store, jobs } = this.ports;
    const rooms: KnownRooms = new Map();
    // The next batch is read from both stores and planned while this one is staged and recorded, and the
    // users of the one after it are read from MongoDB while the next one's entries are read from LDAP.
    const batches = prefetched(
      readAhead(store.ldapSubjects(job.checkpoint, this.options.planBatchSize)),
      async (subjects) => {
        const batchTimer = new PhaseTimer();
        // Users the map cannot match (stored under an identifier attribute it did not read: created since
        // it was read) are looked up on their own.
        const mapped = new Map<string, ResolvedMatch>();
        const matches = map ? await map.match(subjects) : [];
        subjects.forEach((subject, index) => {
          const match = matches[index];
          if (match) mapped.set(subject._id, match);
        });
        const unmapped = subjects.filter((subject) => !mapped.has(subject._id));
        const looked =
          unmapped.length > 0
            ? (await engine.planSubjects(unmapped, configuration, rooms, job._id, batchTimer, RUN_GUARD))
                .plans
            : [];
        const matched =
          mapped.size > 0
            ? await engine.planMatched(
                subjects.filter((subject) => mapped.has(subject._id)),
                mapped,
                configuration,
                rooms,
                batchTimer,
                RUN_GUARD,
              )
            : [];
        timer.add(batchTimer);
        const byId = new Map([...looked, ...matched].map((plan) => [plan.subject._id, plan]));
        return { subjects, plans: subjects.map((subject) => byId.get(subject._id)!) };
      },
    );
    for await (const { subjects, plans } of batches) {
      lease.check();
      await timer.time('mongoReads', () => engine.preview(plans, rooms));
      const staged = plans.filter((plan): plan is ApplicablePlan => needsClaim(plan, rooms));
      await timer.time('writes', () => run.stage(staged.map((plan) => stagedChangeOf(job._id, plan))));
      // A real run counts the staged users when it applies them; a dry run reports the plan.
      const stagedIds = new Set(staged.map((plan) => plan.subject._id));
      const revocations = revocationsOf(staged);
      const counted = job.dryRun ? plans : plans.filter((plan) => !stagedIds.has(plan.subject._id));
      job = await this.advance(
        run,
        subjects.at(-1)!._id,
        subjects.length,
        countResults(
          counted.map((plan) => plan.result),
          subjects.length,
        ),
        revocations,
      );
    }
    const { budget, settings } = this.ports;
    const thresholds = guardThresholds(await settings.current());
    const staged = await this.readStaged(job._id);
    const plan = {
      revokedUserIds: staged.revokedUserIds,
      planned: job.planned,
      usersInRun: job.progress.total,
    };
    const fingerprint = settingsFingerprint(configuration);
    if (job.dryRun)
      return {
        job,
        kept: { guard: await budget.figures(plan, thresholds), settingsFingerprint: fingerprint },
      };
    // Entered under the run's id: a runner resuming the run here enters the same plan again, not twice.
    const admission = await budget.admit({ id: `run:${job._id}`, ...plan }, thresholds);
    if (!admission.admitted) throw new RunBlockedError(admission.guard, fingerprint, staged.counts);
    return { job: await run.enterPhase('applying', await jobs.countStaged(job._id)) };
  }

  /**
   * The users the staged plan takes values from, and what it would do, read back from the staging (a
   * resumed run has no other record of its earlier batches).
   */
  private async readStaged(
    jobId: string,
  ): Promise<{ revokedUserIds: string[]; counts: Partial<JobSummary> }> {
    const revokedUserIds: string[] = [];
    const results: UserSyncResult[] = [];
    for await (const changes of this.ports.jobs.stagedChanges(jobId, undefined, this.options.applyBatchSize))
      for (const change of changes) {
        if (change.removed?.length) revokedUserIds.push(change.userId);
        results.push({
          _id: change.userId,
          username: change.username,
          status: change.status,
          roomsRevoked: change.roomsRevoked,
        });
      }
    return { revokedUserIds, counts: countResults(results, 0) };
  }

  /** A run applying a reviewed plan skips planning: it applies the plan the reviewed job kept. */
  private async enterReviewedPlan(job: SyncJob, reviewedJobId: string, run: HeldRun): Promise<SyncJob> {
    const { jobs, engine, settings, logger } = this.ports;
    const reviewed = await jobs.get(reviewedJobId);
    if (!reviewed || reviewed.planExpiredAt) throw new SyncPlanExpiredError();
    // Checked again here: the settings may have changed between the apply and this run's start.
    checkPlanFresh(reviewed, await engine.configuration(), await settings.current(), this.ports.clock.now());
    logger.info({ jobId: job._id, reviewedJobId }, 'directory-wide sync run: applying a reviewed plan');
    return run.enterPhase('applying', await jobs.countStaged(reviewedJobId));
  }

  private async applyAll(job: SyncJob, run: HeldRun, lease: Lease, timer: PhaseTimer): Promise<SyncJob> {
    const { logger } = this.ports;
    logger.info({ jobId: job._id, changes: job.progress.total }, 'directory-wide sync run: applying');
    const { reviewedJobId } = job;
    // Each batch's users are read just before it is applied, and written without claims on that state, as a
    // request writes them; only users another sync holds or changed meanwhile, or with audit left waiting,
    // go through the claims. Those are held for the job, not for this process: a runner taking over from
    // one that died finds the users of the batch that was cut short claimed by the job, and goes on at once.
    const request = {
      actor: actorOf(job),
      requestId: job._id,
      claimHolder: `run:${job._id}`,
      writeUnclaimed: true,
      ...(reviewedJobId ? { reviewedJobId } : {}),
      ...(job.undoes ? { undoes: job.undoes } : {}),
    };
    // A batch's outboxes are emptied while the next batch is read and written (one batch behind at most);
    // the run waits for the last before it ends. One cut short leaves events a later sync copies once.
    const clearing = new DeferredWork(logger, 1);
    try {
      return await this.applyBatches(job, run, lease, timer, { ...request, clearOutboxesIn: clearing });
    } finally {
      await clearing.settled();
    }
  }

  private async applyBatches(
    job: SyncJob,
    run: HeldRun,
    lease: Lease,
    timer: PhaseTimer,
    request: Parameters<AbacLdapSyncService['applyPlans']>[2],
  ): Promise<SyncJob> {
    const { engine, jobs, store } = this.ports;
    const rooms: KnownRooms = new Map();
    const { reviewedJobId } = job;
    const source = reviewedJobId ?? job._id;
    for await (const changes of jobs.stagedChanges(source, job.checkpoint, this.options.applyBatchSize)) {
      lease.check();
      const stored = await timer.time('mongoReads', () =>
        store.readUsers(changes.map((change) => change.userId)),
      );
      const storedById = new Map(stored.map((user) => [user._id, user]));
      const plans = changes.map((change) => planOfStaged(change, storedById.get(change.userId)));
      // An undo's plan marks users changed since its change set stale from the start: left alone.
      await engine.applyPlans(
        plans.filter((plan) => !plan.stale),
        rooms,
        request,
        timer,
      );
      const stale = plans.filter((plan) => plan.stale).map((plan) => plan.subject._id);
      if (stale.length > 0) await run.markStale(source, stale);
      const results = plans.flatMap((plan, index) =>
        plan.stale ? [] : [appliedResult(changes[index]!, plan.result)],
      );
      // A reviewed plan's users are counted as they are applied: this run planned none of them.
      const counts = countResults(results, reviewedJobId ? changes.length : 0);
      job = await this.advance(run, changes.at(-1)!.userId, changes.length, {
        ...counts,
        ...(stale.length > 0 ? { stale: stale.length } : {}),
      });
    }
    // Staged changes vanish only when their plan expires: a plan cut short by that is not applied whole.
    if (reviewedJobId && job.progress.processed < job.progress.total) throw new SyncPlanExpiredError();
    return job;
  }

  private async advance(
    run: HeldRun,
    checkpoint: string,
    done: number,
    summary: JobAdvance['summary'],
    revocations?: PlannedRevocations,
  ): Promise<SyncJob> {
    const next = await run.advance({
      checkpoint,
      processed: done,
      summary,
      ...(revocations ? { revocations } : {}),
    });
    this.ports.metrics.runProgressed({
      phase: next.phase ?? 'planning',
      done,
      processed: next.progress.processed,
      total: next.progress.total,
    });
    if (next.cancelRequested) throw new RunCancelledError();
    const off = switchedOff(await this.ports.settings.current());
    if (off) throw new RunSwitchedOffError(off);
    return next;
  }

  private async end(
    job: SyncJob,
    run: HeldRun,
    outcome: Ending,
    started: number,
    timer: PhaseTimer,
  ): Promise<SyncJob | undefined> {
    const { jobs, logger, metrics } = this.ports;
    const ended = await run.finish(outcome);
    if (!ended) return undefined;
    // A dry run's plan, and a blocked run's, is kept for review; a real run's staging has served its purpose.
    if (!job.dryRun && outcome.state !== 'blocked')
      await jobs
        .dropStaged(job._id)
        .catch((error: unknown) =>
          logger.warn(
            { jobId: job._id, err: errorFields(error) },
            'staged changes of a finished run not removed',
          ),
        );
    const seconds = (performance.now() - started) / 1000;
    logger.info(
      {
        jobId: job._id,
        state: ended.state,
        trigger: ended.trigger,
        dryRun: ended.dryRun,
        ...ended.summary,
        seconds: Math.round(seconds * 1000) / 1000,
        durationsMs: timer.rounded(),
      },
      'directory-wide sync run finished',
    );
    metrics.runFinished({ outcome: outcome.state, trigger: ended.trigger, seconds });
    if (outcome.state === 'completed')
      metrics.syncCompleted({
        dryRun: ended.dryRun,
        summary: ended.summary,
        ldapSearchRoundTrips: 0,
        durationsMs: timer.rounded(),
      });
    return ended;
  }
}

function actorOf(job: SyncJob): SyncActor {
  return job.actor.type === 'user' ? job.actor : { type: 'system', jobId: job._id };
}
