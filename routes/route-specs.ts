// Every route of the module, declared once: its method and path, who may call it, what it takes and what it
// answers. routes/serve.ts derives the Express handler's checks from a declaration, and routes/openapi.ts
// the OpenAPI operation; the handlers (users-sync.ts, sync-jobs.ts) hold only what the route does.
import { z } from 'zod';
import { feedStatusSchema } from '../lib/feed/feed-status';
import { healthSchema } from '../lib/health';
import {
  applyPlanBodySchema,
  cancelRunBodySchema,
  discardFeedBodySchema,
  listChangesQuerySchema,
  listRunsQuerySchema,
  startRunBodySchema,
  undoBodySchema,
} from '../lib/jobs/run-requests';
import { plannedChangeSchema } from '../lib/jobs/staged-change';
import { planSummarySchema } from '../lib/jobs/plan-summary';
import { syncJobSchema } from '../lib/jobs/sync-job';
import { syncResponseSchema } from '../lib/sync/sync-report';
import { syncRequestBodySchema } from '../lib/sync/sync-request';
import { ERROR_RESPONSES, type ErrorResponse } from './error-responses';

export const USERS_SYNC_PATH = '/abac/users/sync';
export const SYNC_JOBS_PATH = `${USERS_SYNC_PATH}/jobs`;
export const FEED_PATH = `${USERS_SYNC_PATH}/feed`;

export interface RouteSpec {
  method: 'get' | 'post';
  /** Under the mount, in Express's syntax (`:jobId`). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /**
   * Who may call it: the admin gate, with the limit it counts against (see admin-gate.ts), or anyone
   * (`public`: nothing private in the answer).
   */
  access: 'writes' | 'reads' | 'never' | 'public';
  /** A JSON body (strict); not required: an empty body reads as `{}`. */
  body?: { schema: z.ZodType; required: boolean };
  query?: z.ZodObject;
  params?: z.ZodObject;
  success: { status: 200 | 202; description: string; schema: z.ZodType };
  /** Answers other than the success and the errors below (the health route's 503). */
  otherAnswers?: Record<number, { description: string; schema: z.ZodType }>;
  errors?: Record<number, ErrorResponse>;
}

/** Rocket.Chat's list convention, beside the items. */
const listPage = {
  count: z.int().nonnegative().meta({ description: 'How many items this answer holds.' }),
  offset: z.int().nonnegative().meta({ description: 'How many were skipped before them.' }),
  total: z.int().nonnegative().meta({ description: 'How many there are in all (that the filters select).' }),
};
const jobIdParams = z.object({ jobId: z.string().meta({ description: 'The run id.' }) });
const jobResponse = z
  .object({ success: z.literal(true), job: syncJobSchema })
  .meta({ id: 'SyncJobResponse' });

export const ROUTES = {
  sync: {
    method: 'post',
    path: USERS_SYNC_PATH,
    operationId: 'syncUsersAbacAttributesFromLdap',
    summary: 'Sync users ABAC attributes from LDAP',
    description:
      "Reads each named user's current LDAP entry, applies the configured LDAP → ABAC attribute mapping, " +
      'stores the result on the user, removes the user from ABAC-managed rooms they no longer qualify for and ' +
      'records an audit trail. Requires the abac and ldap-enterprise license modules, the abac-management and ' +
      'manage-abac-admin-room-attributes permissions, and the ABAC_Enabled setting.',
    access: 'writes',
    body: { schema: syncRequestBodySchema.meta({ id: 'SyncRequestBody' }), required: true },
    success: {
      status: 200,
      description: 'The sync ran (or, with dryRun, was computed without writing).',
      schema: syncResponseSchema,
    },
    errors: ERROR_RESPONSES.sync,
  },
  startRun: {
    method: 'post',
    path: SYNC_JOBS_PATH,
    operationId: 'startDirectoryWideSync',
    summary: 'Start a directory-wide sync run',
    description:
      'Queues a run over every active LDAP user: it plans the whole directory first (writing only its own ' +
      'staging), then applies the plan in batches. With dryRun it only plans. One run at a time across all ' +
      'host processes. Same gate as the sync.',
    access: 'writes',
    body: { schema: startRunBodySchema, required: false },
    success: {
      status: 202,
      description: 'The run is queued; follow it with GET /abac/users/sync/jobs/{jobId}.',
      schema: jobResponse,
    },
    errors: ERROR_RESPONSES.startRun,
  },
  listRuns: {
    method: 'get',
    path: SYNC_JOBS_PATH,
    operationId: 'listDirectoryWideSyncs',
    summary: 'List directory-wide sync runs, newest first',
    access: 'reads',
    query: listRunsQuerySchema,
    success: {
      status: 200,
      description: 'The newest runs.',
      schema: z
        .object({ success: z.literal(true), jobs: z.array(syncJobSchema), ...listPage })
        .meta({ id: 'SyncJobListResponse' }),
    },
    errors: ERROR_RESPONSES.listRuns,
  },
  readFeed: {
    method: 'get',
    path: FEED_PATH,
    operationId: 'readChangeFeed',
    summary: "The changed-entries feed's state, watermark and lag",
    description:
      'The feed polls the directory for entries changed since its watermark (ABAC_Sync_Change_Feed_Enabled, ' +
      'every ABAC_Sync_Change_Feed_Interval_Seconds) and syncs their users; one host process consumes it.',
    access: 'reads',
    success: {
      status: 200,
      description: 'The feed.',
      schema: z
        .object({ success: z.literal(true), feed: feedStatusSchema })
        .meta({ id: 'FeedStatusResponse' }),
    },
    errors: ERROR_RESPONSES.readFeed,
  },
  discardFeed: {
    method: 'post',
    path: `${FEED_PATH}/discard`,
    operationId: 'discardBlockedFeedChanges',
    summary: 'Discard the changes the guard stopped, and let the feed go on',
    description:
      'The feed moves past the blocked changes at its next poll without applying them; the next ' +
      'directory-wide run applies whatever the directory then says. To apply them as reviewed instead: ' +
      'POST /abac/users/sync/jobs/{blockedJobId}/apply.',
    access: 'never',
    body: { schema: discardFeedBodySchema, required: false },
    success: {
      status: 200,
      description: 'The feed, as the discard left it.',
      schema: z.object({ success: z.literal(true), feed: feedStatusSchema }),
    },
    errors: ERROR_RESPONSES.discardFeed,
  },
  readRun: {
    method: 'get',
    path: `${SYNC_JOBS_PATH}/:jobId`,
    operationId: 'readDirectoryWideSync',
    summary: "A run's state, phase, progress and counters",
    access: 'reads',
    params: jobIdParams,
    success: { status: 200, description: 'The run.', schema: jobResponse },
    errors: ERROR_RESPONSES.readRun,
  },
  listChanges: {
    method: 'get',
    path: `${SYNC_JOBS_PATH}/:jobId/changes`,
    operationId: 'listPlannedChanges',
    summary: "A dry run's or a blocked run's plan, page by page",
    description:
      'Every user the plan changes, in username order (binary: upper case first; ties by user id): the ' +
      'values added and removed and the rooms the user would leave. Filter by status, by who loses a ' +
      'room, or by the start of a username. Pages are stable: pass nextCursor to read the next one; there ' +
      "is no next page when nextCursor is absent. Or page by count and offset, as Rocket.Chat's lists do; " +
      'total counts the changes the filters select.',
    access: 'reads',
    params: jobIdParams,
    query: listChangesQuerySchema,
    success: {
      status: 200,
      description: 'One page of the plan.',
      schema: z
        .object({
          success: z.literal(true),
          changes: z.array(plannedChangeSchema),
          nextCursor: z.string().optional(),
          ...listPage,
        })
        .meta({ id: 'PlannedChangesResponse' }),
    },
    errors: ERROR_RESPONSES.listChanges,
  },
  planSummary: {
    method: 'get',
    path: `${SYNC_JOBS_PATH}/:jobId/summary`,
    operationId: 'readPlanSummary',
    summary: 'What a kept plan does, by attribute value and by room',
    description:
      'For each attribute key and value, how many users gain it and how many lose it; for each room, how many ' +
      'memberships end and how many come back (an undo). What lets an admin see at a glance that a plan is ' +
      '"everyone loses department" (a broken map) rather than a real reorganisation. Users marked stale are ' +
      'counted apart and not in the rest.',
    access: 'reads',
    params: jobIdParams,
    success: {
      status: 200,
      description: "The plan's summary.",
      schema: z
        .object({ success: z.literal(true), summary: planSummarySchema })
        .meta({ id: 'PlanSummaryResponse' }),
    },
    errors: ERROR_RESPONSES.planSummary,
  },
  applyPlan: {
    method: 'post',
    path: `${SYNC_JOBS_PATH}/:jobId/apply`,
    operationId: 'applyReviewedPlan',
    summary: "Apply a dry run's or a blocked run's plan as reviewed",
    description:
      'Queues a run (trigger admin, reviewedJobId set) that applies the plan the job kept, without reading ' +
      'the directory again, and past the mass-revocation guard: the admin has reviewed it. Under each ' +
      "user's claim the stored value is compared with the one the plan was made from: a user changed since " +
      'is left as they are and counted in summary.stale (the plan marks them `stale`). Audit events carry ' +
      'the admin as actor and the reviewed job id. A plan is applied once; an apply that failed or was ' +
      'cancelled may be started again.',
    access: 'writes',
    params: jobIdParams,
    body: { schema: applyPlanBodySchema, required: false },
    success: {
      status: 202,
      description: 'The applying run is queued; follow it with GET /abac/users/sync/jobs/{jobId}.',
      schema: jobResponse,
    },
    errors: ERROR_RESPONSES.applyPlan,
  },
  undo: {
    method: 'post',
    path: `${USERS_SYNC_PATH}/undo`,
    operationId: 'planUndo',
    summary: 'Plan the undo of a sync, a run or a feed batch, for review',
    description:
      'Queues a run of kind `undo` (dryRun) that plans what takes the change set back, from the undo journal ' +
      'and the users and rooms as they are now: each user goes back to the attributes they held before it, and ' +
      'each membership it ended is given back with the same subscription (its id, read state and roles), ' +
      "where the room still exists and admits the restored values (the others are listed in the plan's " +
      '`roomsNotRestored`). Users changed since, by anyone, are marked `stale` and left alone. The plan is ' +
      'kept as a dry run keeps its plan: once the run completed, page through it with GET /abac/users/sync/jobs/{jobId}/changes ' +
      'and apply it with POST /abac/users/sync/jobs/{jobId}/apply, which audits every change with the admin ' +
      'as actor and the undone change set as `undoes`. What undo needs is kept ABAC_Sync_Undo_Retention_Days.',
    access: 'writes',
    body: { schema: undoBodySchema, required: true },
    success: {
      status: 202,
      description:
        'The run that plans the undo is queued (kind undo, dryRun true); follow it with GET /abac/users/sync/jobs/{jobId}.',
      schema: jobResponse,
    },
    errors: ERROR_RESPONSES.undo,
  },
  cancelRun: {
    method: 'post',
    path: `${SYNC_JOBS_PATH}/:jobId/cancel`,
    operationId: 'cancelDirectoryWideSync',
    summary: 'Cancel a run',
    description:
      'A queued run ends cancelled at once; a running one stops at its next batch boundary (what it applied ' +
      'stays applied and audited). An ended run answers 409 error-sync-job-ended and is left as it is.',
    access: 'never',
    params: jobIdParams,
    body: { schema: cancelRunBodySchema, required: false },
    success: { status: 200, description: 'The run, as the cancel left it.', schema: jobResponse },
    errors: ERROR_RESPONSES.cancelRun,
  },
  me: {
    method: 'get',
    path: `${USERS_SYNC_PATH}/me`,
    operationId: 'readSignedInUser',
    summary: 'Whom the credentials name, once they pass the gate',
    description:
      'The admin page checks a sign-in with it once, so mistyped credentials never reach its polling. ' +
      'Counted as a read.',
    access: 'reads',
    success: {
      status: 200,
      description: 'The signed-in user.',
      schema: z
        .object({ success: z.literal(true), user: z.object({ _id: z.string(), username: z.string() }) })
        .meta({ id: 'SignedInUserResponse' }),
    },
    errors: ERROR_RESPONSES.readSignedInUser,
  },
  health: {
    method: 'get',
    path: `${USERS_SYNC_PATH}/health`,
    operationId: 'readHealth',
    summary: 'Whether this process can serve: for load balancers, without credentials',
    description:
      "MongoDB, the directory, this process's runner and the feed, each up, down or off; nothing else. " +
      '200 while MongoDB answers, 503 when it does not. Checked at most every 5 s.',
    access: 'public',
    success: {
      status: 200,
      description: 'MongoDB answers.',
      schema: z.object({ success: z.literal(true), health: healthSchema }).meta({ id: 'HealthResponse' }),
    },
    otherAnswers: {
      503: {
        description: 'MongoDB does not answer: take this process out of rotation.',
        schema: z.object({ success: z.literal(false), health: healthSchema }),
      },
    },
  },
} as const satisfies Record<string, RouteSpec>;
