import {
  ChangeSetNotFoundError,
  SyncAlreadyRunningError,
  SyncUndoDryRunError,
  SyncUndoExpiredError,
} from '../errors';
import type { SyncJobStore } from '../jobs/job-store';
import { ACTIVE_STATES, jobView, type SyncJob } from '../jobs/sync-job';
import type { StartRun, SyncJobs } from '../jobs/sync-jobs';
import type { UndoStore } from './undo-store';

export interface SyncUndoPorts {
  undo: Pick<UndoStore, 'usersOf' | 'wasAudited'>;
  jobs: Pick<SyncJobStore, 'get'>;
  /** Queues the run that plans the undo. */
  runs: Pick<SyncJobs, 'startUndo'>;
}

/** What to take back: a run's (or an applied plan's) job id, or a named-users sync's or feed batch's id. */
export type UndoTarget = { jobId: string } | { requestId: string };

/**
 * Undo: a run of kind `undo` that plans, from the undo journal, what takes a change set back, and keeps the
 * plan for review as a dry run does; it is read through the plan routes and applied through
 * `/jobs/:jobId/apply` like any kept plan.
 */
export class SyncUndo {
  constructor(private readonly ports: SyncUndoPorts) {}

  /**
   * Queues the run that plans the undo of `target` (for the admin who asks, or the CLI). 404 when no change set has this id; 409 when
   * its journal was removed after ABAC_Sync_Undo_Retention_Days, or while the run named (or any) is active;
   * 400 for a dry run or a blocked run, which changed nothing.
   */
  async plan(target: UndoTarget, request: Omit<StartRun, 'dryRun'>): Promise<SyncJob> {
    const { undo, jobs, runs } = this.ports;
    const changeSet = 'jobId' in target ? target.jobId : target.requestId;
    const job = 'jobId' in target ? await jobs.get(changeSet) : undefined;
    // A dry run, an undo's plan and a blocked run changed nothing.
    if (job?.dryRun || job?.state === 'blocked') throw new SyncUndoDryRunError();
    if (job && ACTIVE_STATES.includes(job.state)) throw new SyncAlreadyRunningError(jobView(job));
    if (!job && (await undo.usersOf(changeSet)).length === 0)
      throw (await undo.wasAudited(changeSet)) ? new SyncUndoExpiredError() : new ChangeSetNotFoundError();
    return runs.startUndo(changeSet, request);
  }
}
