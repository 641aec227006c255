import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { syncResponseSchema } from '../lib/sync/sync-report';
import { syncRequestBodySchema } from '../lib/sync/sync-request';
import { syncJobSchema } from '../lib/jobs/sync-job';
import {
  applyPlanBodySchema,
  cancelRunBodySchema,
  discardFeedBodySchema,
  listChangesQuerySchema,
  listRunsQuerySchema,
  startRunBodySchema,
} from '../lib/jobs/run-requests';
import { plannedChangeSchema } from '../lib/jobs/staged-change';
import { feedStatusSchema } from '../lib/feed/feed-status';
import { healthSchema } from '../lib/health';

type ErrorResponse = { description: string; codes: readonly string[]; retryAfter?: boolean };

const SETTINGS_CODES = [
  'error-action-not-allowed',
  'error-abac-not-enabled',
  'error-ldap-not-enabled',
  'error-abac-attribute-map-invalid',
  'error-ldap-settings-invalid',
] as const;

/** The answers of the gate every route passes first (login, rate, license, permissions, settings). */
const GATE_RESPONSES = {
  400: {
    description:
      'Refused before any work: the license does not cover the feature, ABAC or LDAP is off, or the LDAP ' +
      'settings or attribute map are unusable.',
    codes: SETTINGS_CODES,
  },
  401: {
    description: 'Not logged in: the same answer whatever was wrong with the user id or token.',
    codes: ['error-unauthorized'],
  },
  403: { description: 'The caller lacks a required permission.', codes: ['error-not-authorized'] },
  429: {
    description: 'Too many requests from this caller, or too many failed logins from this address.',
    codes: ['error-too-many-requests'],
    retryAfter: true,
  },
  500: { description: 'An unexpected error; the body carries the request id.', codes: ['error-internal'] },
  503: {
    description: 'The database is unavailable. Nothing was written.',
    codes: ['error-database-unavailable'],
    retryAfter: true,
  },
} as const satisfies Record<number, ErrorResponse>;

/**
 * The gate alone, without the settings checks: the routes an admin needs to read and stop runs and the feed
 * answer even with ABAC or LDAP switched off (the emergency stop).
 */
const GATE_ONLY_RESPONSES = {
  ...GATE_RESPONSES,
  400: {
    description: 'Refused before any work: the license does not cover the feature.',
    codes: ['error-action-not-allowed'],
  },
} as const satisfies Record<number, ErrorResponse>;

const BODY_REFUSED = (what: string): ErrorResponse => ({
  description: `Refused before any work: ${what}, the license does not cover the feature, ABAC or LDAP is off, or the LDAP settings or attribute map are unusable.`,
  codes: ['error-invalid-body-params', ...SETTINGS_CODES],
});
/** A body refused by a route behind the gate alone. */
const BODY_REFUSED_BY_GATE = (what: string): ErrorResponse => ({
  description: `Refused before any work: ${what}, or the license does not cover the feature.`,
  codes: ['error-invalid-body-params', 'error-action-not-allowed'],
});
const TOO_LARGE: ErrorResponse = {
  description: 'The body is larger than the limit the host set.',
  codes: ['error-payload-too-large'],
};
const JOB_NOT_FOUND: ErrorResponse = {
  description: 'No run has this id.',
  codes: ['error-sync-job-not-found'],
};
/** A run id in the path that decodes to no text (`%ZZ`), refused before anything else. */
const withMalformedPath = (response: ErrorResponse): ErrorResponse => ({
  description: `${response.description} Or the path's run id is not valid percent-encoded text.`,
  codes: [...response.codes, 'error-invalid-path'],
});
/** Answered for what no operation takes: another method on a path (405, with Allow) or an unknown path (404). */
export const OUTSIDE_OPERATIONS = ['error-method-not-allowed', 'error-not-found'] as const;

/** Every error status each operation answers, with the codes it can carry; the body is always ErrorBody. */
export const ERROR_RESPONSES = {
  sync: {
    ...GATE_RESPONSES,
    400: BODY_REFUSED('the body is invalid'),
    409: {
      description:
        'Several entries were found and none carries a mapped attribute while their users hold attributes: ' +
        'the attribute map or the bind account is broken. Nothing was written; details name the attributes.',
      codes: ['error-abac-mapping-matches-nothing'],
    },
    413: TOO_LARGE,
    503: {
      description: 'The directory or the database is unavailable. Nothing was written.',
      codes: ['error-ldap-unavailable', 'error-database-unavailable'],
      retryAfter: true,
    },
  },
  startRun: {
    ...GATE_RESPONSES,
    400: BODY_REFUSED('the body is invalid'),
    409: {
      description: 'A run is queued or running already; the body carries it as `job`. Nothing was started.',
      codes: ['error-sync-already-running'],
    },
    413: TOO_LARGE,
  },
  listRuns: {
    ...GATE_ONLY_RESPONSES,
    400: {
      description:
        'Refused before any work: `limit` is not a whole number from 1 to 100 or another parameter was sent, ' +
        'or the license does not cover the feature.',
      codes: ['error-invalid-params', 'error-action-not-allowed'],
    },
  },
  readRun: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath(GATE_ONLY_RESPONSES[400]),
    404: JOB_NOT_FOUND,
  },
  readFeed: { ...GATE_ONLY_RESPONSES },
  readSignedInUser: { ...GATE_ONLY_RESPONSES },
  discardFeed: {
    ...GATE_ONLY_RESPONSES,
    400: BODY_REFUSED_BY_GATE('the body is not empty'),
    409: {
      description: 'The feed holds no blocked changes. Nothing was changed.',
      codes: ['error-feed-not-blocked'],
    },
    413: TOO_LARGE,
  },
  listChanges: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath({
      description:
        'Refused before any work: a parameter is invalid (`status`, `stale`, `cursor`, `limit` from 1 to 500, or one ' +
        'not listed), or the license does not cover the feature.',
      codes: ['error-invalid-params', 'error-action-not-allowed'],
    }),
    404: JOB_NOT_FOUND,
    409: {
      description:
        'The run keeps no plan to review (only a completed dry run or a blocked run does), or its plan has ' +
        'expired (ABAC_Sync_Plan_Retention_Minutes).',
      codes: ['error-sync-plan-not-reviewable', 'error-sync-plan-expired'],
    },
  },
  applyPlan: {
    ...GATE_RESPONSES,
    400: withMalformedPath(BODY_REFUSED('the body is not empty')),
    404: JOB_NOT_FOUND,
    409: {
      description:
        'Nothing was started. The run keeps no plan (only a completed dry run or a blocked run does); its plan ' +
        'has expired; it was made under other settings (the attribute map, base DN, filter, scope or ' +
        'identifying fields) or is older than ABAC_Sync_Plan_Max_Age_Minutes; a run applying it is queued or ' +
        'running (`appliedBy`); it was applied by a run that completed (`appliedBy`); or another run holds ' +
        'the slot (`job`).',
      codes: [
        'error-sync-plan-not-reviewable',
        'error-sync-plan-expired',
        'error-sync-plan-outdated',
        'error-sync-plan-running',
        'error-sync-plan-already-applied',
        'error-sync-already-running',
      ],
    },
    413: TOO_LARGE,
  },
  cancelRun: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath(BODY_REFUSED_BY_GATE('the body is not empty')),
    404: JOB_NOT_FOUND,
    413: TOO_LARGE,
  },
} as const satisfies Record<string, Record<number, ErrorResponse>>;

const errorBody = (codes: readonly [string, ...string[]]) =>
  z.object({
    success: z.literal(false),
    error: z.enum(codes),
    message: z.string(),
    details: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({
        description:
          'For error-invalid-body-params: which field, and why; for error-abac-mapping-matches-nothing: ' +
          'the attributes asked for.',
      }),
    requestId: z.string().optional().meta({ description: 'For error-internal: quote it when reporting.' }),
  });

const documentedBody = syncRequestBodySchema.meta({ id: 'SyncRequestBody' });

const requestIdHeader = {
  'X-Request-Id': {
    description: "The request's id: the caller's X-Request-Id when well-formed, else a new one.",
    schema: { type: 'string' as const },
  },
};

/** The error answers of one operation, as OpenAPI responses. */
function errorResponses(spec: Record<number, ErrorResponse>) {
  return Object.fromEntries(
    Object.entries(spec).map(([status, response]) => [
      status,
      {
        description: response.description,
        headers: {
          ...requestIdHeader,
          ...(response.retryAfter
            ? {
                'Retry-After': {
                  description: 'Seconds to wait before retrying.',
                  schema: { type: 'integer' as const },
                },
              }
            : {}),
        },
        content: {
          'application/json': {
            schema:
              status === '409' && response.codes.includes('error-sync-already-running')
                ? errorBody(response.codes as unknown as [string, ...string[]]).extend({ job: syncJobSchema })
                : errorBody(response.codes as unknown as [string, ...string[]]),
          },
        },
      },
    ]),
  );
}

const authHeaders = z.object({
  'X-User-Id': z.string().meta({ description: 'The userId of the authenticated user.' }),
  'X-Auth-Token': z.string().meta({ description: 'The authToken of the authenticated user.' }),
  'X-Request-Id': z.string().optional().meta({
    description: 'Echoed in the response and logs when it is 1–64 letters, digits or ._:- characters.',
  }),
});

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

/**
 * The OpenAPI 3.1 document of the routes, generated from the schemas that validate the bodies and describe
 * the answers. `serverUrl` is where the host mounted the router (the paths are relative to it).
 */
export function usersSyncOpenApiDocument(serverUrl = '/api/v1') {
  const registry = new OpenAPIRegistry();
  registry.registerPath({
    method: 'post',
    path: '/abac/users/sync',
    operationId: 'syncUsersAbacAttributesFromLdap',
    summary: 'Sync users ABAC attributes from LDAP',
    description:
      "Reads each named user's current LDAP entry, applies the configured LDAP → ABAC attribute mapping, " +
      'stores the result on the user, removes the user from ABAC-managed rooms they no longer qualify for and ' +
      'records an audit trail. Requires the abac and ldap-enterprise license modules, the abac-management and ' +
      'manage-abac-admin-room-attributes permissions, and the ABAC_Enabled setting.',
    request: {
      headers: authHeaders,
      body: { required: true, content: { 'application/json': { schema: documentedBody } } },
    },
    responses: {
      200: {
        description: 'The sync ran (or, with dryRun, was computed without writing).',
        headers: requestIdHeader,
        content: { 'application/json': { schema: syncResponseSchema } },
      },
      ...errorResponses(ERROR_RESPONSES.sync),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/abac/users/sync/jobs',
    operationId: 'startDirectoryWideSync',
    summary: 'Start a directory-wide sync run',
    description:
      'Queues a run over every active LDAP user: it plans the whole directory first (writing only its own ' +
      'staging), then applies the plan in batches. With dryRun it only plans. One run at a time across all ' +
      'host processes. Same gate as the sync.',
    request: {
      headers: authHeaders,
      body: { required: false, content: { 'application/json': { schema: startRunBodySchema } } },
    },
    responses: {
      202: {
        description: 'The run is queued; follow it with GET /abac/users/sync/jobs/{jobId}.',
        headers: requestIdHeader,
        content: { 'application/json': { schema: jobResponse } },
      },
      ...errorResponses(ERROR_RESPONSES.startRun),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/jobs',
    operationId: 'listDirectoryWideSyncs',
    summary: 'List directory-wide sync runs, newest first',
    request: { headers: authHeaders, query: listRunsQuerySchema },
    responses: {
      200: {
        description: 'The newest runs.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z
              .object({ success: z.literal(true), jobs: z.array(syncJobSchema), ...listPage })
              .meta({ id: 'SyncJobListResponse' }),
          },
        },
      },
      ...errorResponses(ERROR_RESPONSES.listRuns),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/feed',
    operationId: 'readChangeFeed',
    summary: "The changed-entries feed's state, watermark and lag",
    description:
      'The feed polls the directory for entries changed since its watermark (ABAC_Sync_Change_Feed_Enabled, ' +
      'every ABAC_Sync_Change_Feed_Interval_Seconds) and syncs their users; one host process consumes it.',
    request: { headers: authHeaders },
    responses: {
      200: {
        description: 'The feed.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z
              .object({ success: z.literal(true), feed: feedStatusSchema })
              .meta({ id: 'FeedStatusResponse' }),
          },
        },
      },
      ...errorResponses(ERROR_RESPONSES.readFeed),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/abac/users/sync/feed/discard',
    operationId: 'discardBlockedFeedChanges',
    summary: 'Discard the changes the guard stopped, and let the feed go on',
    description:
      'The feed moves past the blocked changes at its next poll without applying them; the next ' +
      'directory-wide run applies whatever the directory then says. To apply them as reviewed instead: ' +
      'POST /abac/users/sync/jobs/{blockedJobId}/apply.',
    request: {
      headers: authHeaders,
      body: { required: false, content: { 'application/json': { schema: discardFeedBodySchema } } },
    },
    responses: {
      200: {
        description: 'The feed, as the discard left it.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z.object({ success: z.literal(true), feed: feedStatusSchema }),
          },
        },
      },
      ...errorResponses(ERROR_RESPONSES.discardFeed),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/jobs/{jobId}',
    operationId: 'readDirectoryWideSync',
    summary: "A run's state, phase, progress and counters",
    request: { headers: authHeaders, params: jobIdParams },
    responses: {
      200: {
        description: 'The run.',
        headers: requestIdHeader,
        content: { 'application/json': { schema: jobResponse } },
      },
      ...errorResponses(ERROR_RESPONSES.readRun),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/jobs/{jobId}/changes',
    operationId: 'listPlannedChanges',
    summary: "A dry run's or a blocked run's plan, page by page",
    description:
      'Every user the plan changes, in user id order: the values added and removed and the rooms the user ' +
      'would leave. Pages are stable: pass nextCursor to read the next one; there is no next page when ' +
      "nextCursor is absent. Or page by count and offset, as Rocket.Chat's lists do; total counts the " +
      'changes the filters select.',
    request: { headers: authHeaders, params: jobIdParams, query: listChangesQuerySchema },
    responses: {
      200: {
        description: 'One page of the plan.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z
              .object({
                success: z.literal(true),
                changes: z.array(plannedChangeSchema),
                nextCursor: z.string().optional(),
                ...listPage,
              })
              .meta({ id: 'PlannedChangesResponse' }),
          },
        },
      },
      ...errorResponses(ERROR_RESPONSES.listChanges),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/abac/users/sync/jobs/{jobId}/apply',
    operationId: 'applyReviewedPlan',
    summary: "Apply a dry run's or a blocked run's plan as reviewed",
    description:
      'Queues a run (trigger admin, reviewedJobId set) that applies the plan the job kept, without reading ' +
      'the directory again, and past the mass-revocation guard: the admin has reviewed it. Under each ' +
      "user's claim the stored value is compared with the one the plan was made from: a user changed since " +
      'is left as they are and counted in summary.stale (the plan marks them `stale`). Audit events carry ' +
      'the admin as actor and the reviewed job id. A plan is applied once; an apply that failed or was ' +
      'cancelled may be started again.',
    request: {
      headers: authHeaders,
      params: jobIdParams,
      body: { required: false, content: { 'application/json': { schema: applyPlanBodySchema } } },
    },
    responses: {
      202: {
        description: 'The applying run is queued; follow it with GET /abac/users/sync/jobs/{jobId}.',
        headers: requestIdHeader,
        content: { 'application/json': { schema: jobResponse } },
      },
      ...errorResponses(ERROR_RESPONSES.applyPlan),
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/abac/users/sync/jobs/{jobId}/cancel',
    operationId: 'cancelDirectoryWideSync',
    summary: 'Cancel a run',
    description:
      'A queued run ends cancelled at once; a running one stops at its next batch boundary (what it applied ' +
      'stays applied and audited). Cancelling an ended run changes nothing.',
    request: {
      headers: authHeaders,
      params: jobIdParams,
      body: { required: false, content: { 'application/json': { schema: cancelRunBodySchema } } },
    },
    responses: {
      200: {
        description: 'The run, as the cancel left it.',
        headers: requestIdHeader,
        content: { 'application/json': { schema: jobResponse } },
      },
      ...errorResponses(ERROR_RESPONSES.cancelRun),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/me',
    operationId: 'readSignedInUser',
    summary: 'Whom the credentials name, once they pass the gate',
    description:
      'The admin page checks a sign-in with it once, so mistyped credentials never reach its polling. ' +
      'Counted as a read.',
    request: { headers: authHeaders },
    responses: {
      200: {
        description: 'The signed-in user.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z
              .object({ success: z.literal(true), user: z.object({ _id: z.string(), username: z.string() }) })
              .meta({ id: 'SignedInUserResponse' }),
          },
        },
      },
      ...errorResponses(ERROR_RESPONSES.readSignedInUser),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/abac/users/sync/health',
    operationId: 'readHealth',
    summary: 'Whether this process can serve: for load balancers, without credentials',
    description:
      "MongoDB, the directory, this process's runner and the feed, each up, down or off; nothing else. " +
      '200 while MongoDB answers, 503 when it does not. Checked at most every 5 s.',
    responses: {
      200: {
        description: 'MongoDB answers.',
        headers: requestIdHeader,
        content: {
          'application/json': {
            schema: z
              .object({ success: z.literal(true), health: healthSchema })
              .meta({ id: 'HealthResponse' }),
          },
        },
      },
      503: {
        description: 'MongoDB does not answer: take this process out of rotation.',
        headers: requestIdHeader,
        content: {
          'application/json': { schema: z.object({ success: z.literal(false), health: healthSchema }) },
        },
      },
    },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ABAC LDAP sync',
      version: '1',
      description:
        'POST /api/v1/abac/users/sync and the directory-wide runs, as served by the abac-ldap-sync module. ' +
        'Under /abac/users/sync, another method on a path answers 405 error-method-not-allowed (with Allow), ' +
        'and an unknown path 404 error-not-found, in the same error body.',
    },
    servers: [{ url: serverUrl }],
  });
}
