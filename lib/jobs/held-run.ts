import type { Clock } from '../clock';
import { errorFields } from '../error-fields';
import type { Logger } from '../logger';
import { PROCESS_NAME } from '../process-name';
import { randomId } from '../random-id';
import type { StagedChange } from './staged-change';
import type { JobAdvance, SyncJobStore } from './job-store';
import type { SyncJob, SyncJobPhase } from './sync-job';

/** The runner lost the job to another process (its writes are refused): it stops without touching it. */
export class RunLostError extends Error {}
/** This process is shutting down: the run is left for another process to resume. */
export class RunStoppedError extends Error {}

type Outcome = Parameters<SyncJobStore['finish']>[2];

/**
 * A job this runner has taken over. Every write names the job and this runner's token, so a runner that
 * lost the job (another took it over) can write nothing more: each write it tries throws RunLostError.
 */
export class HeldRun {
  private constructor(
    private readonly jobs: SyncJobStore,
    private readonly clock: Clock,
    readonly jobId: string,
    private readonly token: string,
  ) {}

  /** Takes the job over; undefined when it is finished or another live runner holds it. */
  static async take(
    jobs: SyncJobStore,
    clock: Clock,
    jobId: string,
  ): Promise<{ run: HeldRun; job: SyncJob } | undefined> {
    const token = randomId();
    const job = await jobs.takeOver(jobId, { token, name: PROCESS_NAME }, new Date(clock.now()));
    return job ? { run: new HeldRun(jobs, clock, jobId, token), job } : undefined;
  }

  /** Starts a phase with its total (the checkpoint starts over). */
  enterPhase(phase: SyncJobPhase, total: number): Promise<SyncJob> {
    return owned(this.jobs.enterPhase(this.jobId, this.token, phase, total, this.now()));
  }

  /** Records a batch: where to resume after it, and what it adds to the counters. */
  advance(step: Omit<JobAdvance, 'at'>): Promise<SyncJob> {
    return owned(this.jobs.advance(this.jobId, this.token, { ...step, at: this.now() }));
  }

  /** Stages a batch's planned changes. */
  async stage(changes: readonly StagedChange[]): Promise<void> {
    // Nothing to write needs no fencing: the batch's advance, which follows, is fenced itself.
    if (changes.length === 0) return;
    await fenced(this.jobs.stageBatch(this.jobId, this.token, changes));
  }

  /** Marks users of the plan of `source` (this run's, or the one it applies) as left alone by this run. */
  async markStale(source: string, userIds: readonly string[]): Promise<void> {
    await fenced(this.jobs.markStale(source, userIds, { jobId: this.jobId, runnerToken: this.token }));
  }

  /** Ends the job; undefined when another runner holds it now. */
  finish(outcome: Omit<Outcome, 'at'>): Promise<SyncJob | undefined> {
    return this.jobs.finish(this.jobId, this.token, { ...outcome, at: this.now() });
  }

  /** Gives the job up for another process to resume at once. */
  async release(): Promise<void> {
    await this.jobs.release(this.jobId, this.token);
  }

  /** Renews the hold; false when another runner holds the job now. */
  async heartbeat(): Promise<boolean> {
    return (await this.jobs.heartbeat(this.jobId, this.token, this.now())) !== undefined;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}

/** Beats every `everyMs` while a run lasts; once a beat says the job is someone else's, check() throws. */
export class Lease {
  private lost = false;
  private readonly interval: NodeJS.Timeout;

  constructor(
    private readonly options: {
      beat: () => Promise<boolean>;
      everyMs: number;
      logger: Logger;
      jobId: string;
      /** Aborted when this process stops: check() then throws RunStoppedError. */
      stop?: AbortSignal;
    },
  ) {
    const { beat, everyMs, logger, jobId } = options;
    this.interval = setInterval(() => {
      beat().then(
        (held) => {
          if (!held) this.lost = true;
        },
        // A missed beat is not a lost job: the next one may land, and the batch writes say for sure.
        (error: unknown) =>
          logger.warn({ jobId, err: errorFields(error) }, 'directory-wide sync run heartbeat failed'),
      );
    }, everyMs);
    this.interval.unref();
  }

  /** Throws when the job was lost or this process is stopping: called at every batch boundary. */
  check(): void {
    if (this.lost) throw new RunLostError();
    if (this.options.stop?.aborted) throw new RunStoppedError();
  }

  end(): void {
    clearInterval(this.interval);
  }
}

async function owned(update: Promise<SyncJob | undefined>): Promise<SyncJob> {
  const job = await update;
  if (!job) throw new RunLostError();
  return job;
}

async function fenced(write: Promise<boolean>): Promise<void> {
  if (!(await write)) throw new RunLostError();
}
