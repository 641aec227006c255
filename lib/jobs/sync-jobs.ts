import type { Clock } from '../clock';
import { SyncAlreadyRunningError, SyncJobNotFoundError } from '../errors';
import type { Logger } from '../logger';
import { randomId } from '../random-id';
import type { SyncJobStore } from './job-store';
import { jobView, type SyncJob, type SyncJobTrigger } from './sync-job';

/** Where a queued job goes to be run by exactly one process (agenda in production). */
export interface RunQueue {
  /** Idempotent: enqueuing a job already queued or running changes nothing but its due time. */
  enqueue(jobId: string): Promise<void>;
}

export interface SyncJobsPorts {
  jobs: SyncJobStore;
  queue: RunQueue;
  /** Throws the 400 errors when the settings do not allow a sync (ABAC or LDAP off, unusable settings). */
  checkSettings: () => Promise<unknown>;
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

  /** Throws the 400 errors when the settings do not allow a sync. */
  async checkSettings(): Promise<void> {
    await this.ports.checkSettings();
  }

  /** Queues a run; throws SyncAlreadyRunningError (with that job) while another is queued or running. */
  async start(request: StartRun): Promise<SyncJob> {
    const { jobs, queue, clock, logger } = this.ports;
    await this.ports.checkSettings();
    const _id = randomId();
    const outcome = await jobs.createUnlessActive({
      _id,
      trigger: request.trigger,
      actor: request.admin
        ? { type: 'user', _id: request.admin._id, username: request.admin.username }
        : { type: 'system', jobId: _id },
      dryRun: request.dryRun,
      createdAt: new Date(clock.now()),
    });
    if (!outcome.created) {
      // The active job may have lost its queue entry (a crash between the two writes): enqueue it again.
      await queue.enqueue(outcome.active._id);
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

  list(limit: number): Promise<SyncJob[]> {
    return this.ports.jobs.newest(limit);
  }

  async cancel(jobId: string): Promise<SyncJob> {
    const job = await this.ports.jobs.requestCancel(jobId, new Date(this.ports.clock.now()));
    if (!job) throw new SyncJobNotFoundError();
    this.ports.logger.info({ jobId, state: job.state }, 'directory-wide sync run cancel requested');
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
