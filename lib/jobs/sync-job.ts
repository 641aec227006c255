import { z } from 'zod';
import { emptySummary, syncSummarySchema, type SyncSummary } from '../sync/sync-report';
import type { GuardFigures, PlannedRevocations } from './revocation-guard';

// A directory-wide run as the routes, the CLI and the store see it. The zod schemas describe the API's
// answers (and generate the OpenAPI entries); dates are ISO strings there and Dates in the store.

export const SYNC_JOB_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'blocked'] as const;
/** `feed`: a changed-entries feed batch the guard stopped, kept as a blocked run for review. */
export const SYNC_JOB_TRIGGERS = ['schedule', 'admin', 'cli', 'feed'] as const;
export const SYNC_JOB_PHASES = ['planning', 'applying'] as const;

export type SyncJobState = (typeof SYNC_JOB_STATES)[number];
export type SyncJobTrigger = (typeof SYNC_JOB_TRIGGERS)[number];
export type SyncJobPhase = (typeof SYNC_JOB_PHASES)[number];

/** States in which a job holds the one run slot. */
export const ACTIVE_STATES: readonly SyncJobState[] = ['queued', 'running'];

const timestamp = z.iso.datetime();

export const syncJobActorSchema = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('user'), _id: z.string(), username: z.string() }),
    z.object({ type: z.literal('system'), jobId: z.string() }),
  ])
  .meta({
    id: 'SyncJobActor',
    description: 'The admin who started the run, or the system for a scheduled run.',
  });

const count = z.int().nonnegative();

export const syncGuardSchema = z
  .object({
    revokedUsers: count.meta({
      description: 'Users the plan takes at least one value from (cleared included).',
    }),
    clearedUsers: count,
    evictions: count.meta({ description: 'Room memberships the plan ends.' }),
    usersInRun: count,
    thresholdPercent: z.number().meta({ description: 'ABAC_Sync_Guard_Max_Revoked_Percent when planned.' }),
    thresholdUsers: count.meta({ description: 'ABAC_Sync_Guard_Min_Users when planned.' }),
    recentRevokedUsers: count.optional().meta({
      description:
        'Users that unattended syncs (feed batches, runs) took values from in the window before this plan; ' +
        'judged together with revokedUsers.',
    }),
    windowMinutes: z
      .number()
      .optional()
      .meta({ description: 'ABAC_Sync_Guard_Window_Minutes when planned.' }),
  })
  .meta({
    id: 'SyncGuard',
    description:
      'The mass-revocation guard: a run is blocked when revokedUsers plus recentRevokedUsers exceeds both ' +
      'thresholdPercent of usersInRun and thresholdUsers. Set on blocked runs and dry runs.',
  });

export const syncJobSummarySchema = syncSummarySchema
  .extend({
    stale: count.meta({
      description:
        'Users whose value another writer changed after the plan was made (the feed, a request), left as ' +
        'that writer left them.',
    }),
    roomsRestored: count.optional().meta({
      description: "An undo's plan and its apply: memberships given back (present once there is one).",
    }),
  })
  .meta({ id: 'SyncJobSummary' });

/**
 * A run's counters: a named-users sync's, plus the users an apply of a reviewed plan skipped, and the
 * memberships an undo gives back.
 */
export type JobSummary = SyncSummary & { stale?: number; roomsRestored?: number };

export function emptyJobSummary(): Required<Omit<JobSummary, 'roomsRestored'>> {
  return { ...emptySummary(), stale: 0 };
}

export const syncJobSchema = z
  .object({
    _id: z.string(),
    kind: z.enum(['full', 'undo']).meta({
      description: 'full: a directory-wide run; undo: the plan that takes a change set back, or its apply.',
    }),
    trigger: z.enum(SYNC_JOB_TRIGGERS),
    actor: syncJobActorSchema,
    dryRun: z.boolean(),
    state: z.enum(SYNC_JOB_STATES),
    phase: z.enum(SYNC_JOB_PHASES).optional().meta({
      description:
        'planning: reading the directory and staging changes; applying: writing the staged changes.',
    }),
    createdAt: timestamp,
    startedAt: timestamp.optional(),
    heartbeatAt: timestamp.optional().meta({ description: 'Last sign of life of the process running it.' }),
    finishedAt: timestamp.optional(),
    progress: z.object({ total: z.int().nonnegative().optional(), processed: z.int().nonnegative() }).meta({
      description:
        "The current phase's work: users planned of the run's users while planning, staged changes applied " +
        'while applying. `total` is absent until the run has counted it (queued, or just started).',
    }),
    summary: syncJobSummarySchema.meta({
      description: 'The counters of a named-users sync, over every user of the run so far.',
    }),
    cancelRequested: z.boolean(),
    runner: z.string().optional().meta({ description: 'host:pid of the process that last ran it.' }),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    guard: syncGuardSchema.optional(),
    planExpiredAt: timestamp.optional().meta({
      description: "When a dry run's or blocked run's plan was removed (ABAC_Sync_Plan_Retention_Minutes).",
    }),
    undoes: z.string().optional().meta({
      description:
        "An undo's plan and its apply: the change set taken back (a named-users sync's requestId, a run's job id, a feed batch's id).",
    }),
    reviewedJobId: z.string().optional().meta({
      description:
        'Set on a run that applies a reviewed plan: the dry run or blocked run whose plan it applies.',
    }),
    appliedBy: z.string().optional().meta({
      description: "Set on a dry run or blocked run once its plan is applied: the applying run's id.",
    }),
    cancelledBy: syncJobActorSchema.optional().meta({ description: 'Who asked the run to stop.' }),
    discardedBy: syncJobActorSchema
      .optional()
      .meta({ description: "Set on a feed's blocked run whose changes an admin discarded: who did." }),
    discardedAt: timestamp.optional(),
  })
  .meta({ id: 'SyncJob' });

export type SyncJobView = z.infer<typeof syncJobSchema>;
export type SyncJobActor = z.infer<typeof syncJobActorSchema>;

/** A job as stored. */
export interface SyncJob {
  _id: string;
  kind: 'full' | 'undo';
  /** An undo's plan and its apply: the change set it takes back. */
  undoes?: string;
  trigger: SyncJobTrigger;
  actor: SyncJobActor;
  dryRun: boolean;
  state: SyncJobState;
  /** Set once the phase's total is counted (enterPhase). */
  phase?: SyncJobPhase;
  createdAt: Date;
  startedAt?: Date;
  heartbeatAt?: Date;
  finishedAt?: Date;
  progress: { total: number; processed: number };
  summary: JobSummary;
  cancelRequested: boolean;
  error?: { code: string; message: string };
  /** The guard's figures, once planning has ended (blocked runs and dry runs show them). */
  guard?: GuardFigures;
  /** When its kept plan was removed for age. */
  planExpiredAt?: Date;
  /** A run applying a reviewed plan: the job that made the plan (this run plans nothing). */
  reviewedJobId?: string;
  /** A dry run or blocked run: the latest run started to apply its plan. */
  appliedBy?: string;
  /** Who asked the run to stop. */
  cancelledBy?: SyncJobActor;
  /** A feed's blocked run whose changes were discarded: who did, and when. */
  discardedBy?: SyncJobActor;
  discardedAt?: Date;
  /** A kept plan: the settings it was made under (see settingsFingerprint); applying it needs the same. */
  settingsFingerprint?: string;
  /** What the plan takes away so far (counted with each planned batch). */
  planned?: Partial<PlannedRevocations>;
  /** The last user id done in the current phase: a resumed run goes on after it. */
  checkpoint?: string;
  /** The token of the runner holding it: writes of any other runner are refused (fencing). */
  runnerToken?: string;
  /** host:pid of that runner's process. */
  runner?: string;
}

export function jobView(job: SyncJob): SyncJobView {
  const iso = (date: Date | undefined) => date?.toISOString();
  return {
    _id: job._id,
    kind: job.kind,
    trigger: job.trigger,
    actor: job.actor,
    dryRun: job.dryRun,
    state: job.state,
    ...(job.phase ? { phase: job.phase } : {}),
    createdAt: job.createdAt.toISOString(),
    ...(job.startedAt ? { startedAt: iso(job.startedAt) } : {}),
    ...(job.heartbeatAt ? { heartbeatAt: iso(job.heartbeatAt) } : {}),
    ...(job.finishedAt ? { finishedAt: iso(job.finishedAt) } : {}),
    // A phase begins with its total counted: before that, the total is unknown, not 0.
    progress: job.phase
      ? { total: job.progress.total, processed: job.progress.processed }
      : { processed: job.progress.processed },
    summary: { ...emptyJobSummary(), ...job.summary },
    cancelRequested: job.cancelRequested,
    ...(job.runner ? { runner: job.runner } : {}),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
    ...(job.guard ? { guard: { ...job.guard } } : {}),
    ...(job.planExpiredAt ? { planExpiredAt: iso(job.planExpiredAt) } : {}),
    ...(job.undoes ? { undoes: job.undoes } : {}),
    ...(job.reviewedJobId ? { reviewedJobId: job.reviewedJobId } : {}),
    ...(job.appliedBy ? { appliedBy: job.appliedBy } : {}),
    ...(job.cancelledBy ? { cancelledBy: job.cancelledBy } : {}),
    ...(job.discardedBy ? { discardedBy: job.discardedBy, discardedAt: iso(job.discardedAt) } : {}),
  };
}

/** Who an actor is, for a log line: the admin's username, or the system run. */
export function actorName(actor: SyncJobActor): string {
  return actor.type === 'user' ? actor.username : `system (${actor.jobId})`;
}

/** Whether the run keeps a plan to review: a completed dry run, or a blocked run. */
export function keepsPlan(job: SyncJob): boolean {
  return (job.dryRun && job.state === 'completed') || job.state === 'blocked';
}
