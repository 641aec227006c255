import { errorFields } from '../error-fields';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, InMemoryNotificationChannel, type Job } from 'agenda';
import type { Db } from 'mongodb';
import { AbacSyncError, SyncAlreadyRunningError } from '../errors';
import type { Logger } from '../logger';
import { PROCESS_NAME } from '../process-name';
import { randomId } from '../random-id';
import { delay } from './abortable-delay';
import type { SettingsSource } from '../settings';
import type { FeedConsumer } from '../feed/feed-consumer';
import { feedSettings } from '../feed/feed-settings';
import type { FullSyncRun } from './full-sync-run';
import { sameSchedule, scheduleOf, type Schedule } from './schedule';
import type { RunQueue, SyncJobs } from './sync-jobs';

/** The queue's job that runs one directory-wide sync job (data: its id). */
export const RUN_TASK = 'abac-ldap-sync:run';
/** The recurring job of the schedule: each tick queues a run. */
export const SCHEDULE_TASK = 'abac-ldap-sync:schedule';
/** The changed-entries feed's one consumer: a task that polls for as long as the feed is on. */
export const FEED_TASK = 'abac-ldap-sync:change-feed';
export const AGENDA_COLLECTION = 'abac_sync_agenda_jobs';

export interface RunnerOptions {
  /** How often each process looks for due work in the queue. */
  processEveryMs: number;
  /**
   * A run whose lock is not renewed for this long is taken over by another process; the runner renews it
   * with every heartbeat. A dead runner's run resumes within lockLifetimeMs + processEveryMs.
   */
  lockLifetimeMs: number;
  /** How often the schedule settings are read again and a stalled run looked for. */
  maintainEveryMs: number;
}

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  processEveryMs: 5000,
  lockLifetimeMs: 30_000,
  maintainEveryMs: 5000,
};

export interface AgendaRunnerPorts {
  db: Db;
  run: FullSyncRun;
  feed: FeedConsumer;
  settings: SettingsSource;
  logger: Logger;
}

/**
 * Runs directory-wide syncs through agenda, the MongoDB-backed job queue the chat server itself uses: every
 * host process that mounts the router takes part, agenda's lock lets one process run a given run, and the
 * runner keeps that lock alive with touch() for as long as the run lasts. Exactly one run at a time comes
 * from the job store (one active job); the job's fencing token stops a runner that lost its lock from
 * writing. The schedule follows the settings without a restart.
 */
export class AgendaRunner implements RunQueue {
  private created: Agenda | undefined;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private applied: Schedule | undefined;
  private feedIntervalMs: number | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  private jobs: SyncJobs | undefined;

  constructor(
    private readonly ports: AgendaRunnerPorts,
    private readonly options: RunnerOptions = DEFAULT_RUNNER_OPTIONS,
  ) {}

  /** agenda connects to its collection (and creates its indexes) when made: only when first needed. */
  private get agenda(): Agenda {
    this.created ??= new Agenda({
      backend: new MongoBackend({ mongo: this.ports.db, collection: AGENDA_COLLECTION }),
      // A run queued by this process starts here at once; other processes see it at their next poll.
      notificationChannel: new InMemoryNotificationChannel(),
      processEvery: this.options.processEveryMs,
      defaultLockLifetime: this.options.lockLifetimeMs,
      name: PROCESS_NAME,
    });
    return this.created;
  }

  /** Takes part in running `jobs`' runs and their schedule (without start, the runner only queues). */
  async start(jobs: SyncJobs): Promise<void> {
    const { logger } = this.ports;
    this.jobs = jobs;
    this.agenda.on('error', (error: Error) =>
      logger.warn({ err: { name: error.name, message: error.message } }, 'job queue error'),
    );
    const perProcess = { concurrency: 1, lockLimit: 1, lockLifetime: this.options.lockLifetimeMs };
    this.agenda.define(RUN_TASK, (job: Job<{ jobId: string }>) => this.runTask(job), perProcess);
    this.agenda.define(SCHEDULE_TASK, () => this.scheduleTick(), perProcess);
    this.agenda.define(FEED_TASK, (job: Job) => this.feedTask(job), perProcess);
    await this.agenda.start();
    await this.maintain();
    this.maintenance = setInterval(() => {
      this.maintain().catch((error: unknown) =>
        logger.warn({ err: errorFields(error) }, 'sync schedule not refreshed; trying again'),
      );
    }, this.options.maintainEveryMs);
    this.maintenance.unref();
  }

  async enqueue(jobId: string): Promise<void> {
    const task = this.agenda.create(RUN_TASK, { jobId });
    task.unique({ 'data.jobId': jobId });
    task.schedule(new Date());
    await task.save();
  }

  /** Stops taking work; a run in this process stops at its batch boundary and is resumed by another. */
  async stop(): Promise<void> {
    if (!this.created) return;
    if (!this.jobs) {
      // Never started: only let its connection work (index creation) end before the host closes the database.
      await Promise.race([this.created.ready, delay(5000)]);
      return;
    }
    clearInterval(this.maintenance);
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
    await this.created.stop(false);
  }

  private async runTask(job: Job<{ jobId: string }>): Promise<void> {
    const jobId = job.attrs.data.jobId;
    const driving = this.ports.run.drive(jobId, () => job.touch(), this.stopping.signal);
    this.running.add(driving);
    try {
      await driving;
    } finally {
      this.running.delete(driving);
    }
  }

  /**
   * Polls the feed for as long as it is on and this process is not stopping, renewing the task's lock at
   * every poll: agenda's lock makes this process the one consumer, and a consumer that dies is replaced
   * within lockLifetimeMs + processEveryMs. A failed poll is retried at the next interval.
   */
  private async feedTask(job: Job): Promise<void> {
    const { feed, settings, logger } = this.ports;
    const token = randomId();
    const polling = (async () => {
      try {
        for (;;) {
          const snapshot = await settings.current();
          const { enabled, intervalMs } = feedSettings(snapshot);
          if (!enabled || this.stopping.signal.aborted) return;
          // agenda re-saving its recurring task clears the task's lock, so a second process may run this
          // loop too: the feed's own hold decides which one polls.
          if (!(await feed.hold(token, this.options.lockLifetimeMs))) return;
          // A failed poll is recorded and retried; a lost hold shows at the next hold().
          await feed.poll(snapshot, token).catch(() => undefined);
          await job.touch();
          await delay(intervalMs, this.stopping.signal);
        }
      } finally {
        // Switched off, stopping, or taken over (then this changes nothing): the next consumer starts at once.
        await feed.letGo(token);
      }
    })();
    this.running.add(polling);
    try {
      await polling;
    } catch (error) {
      logger.warn({ err: errorFields(error) }, 'change feed consumer stopped; it restarts at its next turn');
    } finally {
      this.running.delete(polling);
    }
  }

  private async scheduleTick(): Promise<void> {
    const { logger } = this.ports;
    const jobs = this.jobs!;
    try {
      await jobs.start({ trigger: 'schedule', dryRun: false });
    } catch (error) {
      if (error instanceof SyncAlreadyRunningError) {
        logger.info({ activeJob: error.extra.job }, 'scheduled sync run skipped: a run is queued or running');
        return;
      }
      if (!(error instanceof AbacSyncError)) throw error;
      logger.warn({ code: error.code, reason: error.message }, 'scheduled sync run not started');
    }
  }

  /** Applies a changed schedule, and queues again a run whose runner stopped showing signs of life. */
  private async maintain(): Promise<void> {
    const { settings, logger } = this.ports;
    const jobs = this.jobs!;
    // One read of the settings per pass, for the schedule and the plans' retention alike.
    const snapshot = await settings.current();
    const desired = scheduleOf(snapshot);
    if (!sameSchedule(this.applied, desired)) {
      if (desired.kind === 'cron') {
        await this.agenda.every(desired.cron, SCHEDULE_TASK, undefined, { skipImmediate: true });
        logger.info({ cron: desired.cron }, 'directory-wide sync scheduled');
      } else {
        await this.agenda.cancel({ name: SCHEDULE_TASK });
        if (desired.kind === 'invalid')
          logger.warn(
            {
              setting: 'LDAP_Background_Sync_ABAC_Attributes_Interval',
              interval: desired.interval,
              reason: desired.reason,
            },
            'the sync interval is not a cron expression or a known key: no scheduled runs',
          );
        else if (this.applied) logger.info({}, 'directory-wide sync schedule switched off');
      }
      this.applied = desired;
    }
    const feed = feedSettings(snapshot);
    const feedInterval = feed.enabled ? feed.intervalMs : undefined;
    if (feedInterval !== this.feedIntervalMs) {
      // The task loops while the feed is on; its recurrence only brings it back after it ended.
      if (feedInterval !== undefined) await this.agenda.every(feedInterval, FEED_TASK);
      else await this.agenda.cancel({ name: FEED_TASK });
      logger.info({ enabled: feed.enabled, intervalMs: feed.intervalMs }, 'change feed settings applied');
      this.feedIntervalMs = feedInterval;
    }
    // The embedded test server has no TTL indexes, and plans and runs expire by settings anyway: a sweep
    // removes them, and the queue's entries of the runs it removed.
    for (const jobId of await jobs.sweep(snapshot))
      await this.agenda.cancel({ name: RUN_TASK, data: { jobId } });
    const stalled = await jobs.stalled(this.options.lockLifetimeMs);
    if (stalled) {
      logger.warn({ jobId: stalled._id }, 'sync run without a live runner: queued again to resume');
      await this.enqueue(stalled._id);
    }
  }
}
