import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { syncResponseSchema } from '../sync/sync-report';
import { syncRequestBodySchema } from '../sync/sync-request';

/** Every error status the route answers, with the codes it can carry; the body is always ErrorBody. */
export const ERROR_RESPONSES = {
  400: {
    description:
      'Refused before any work: the body is invalid, the license does not cover the feature, ABAC or LDAP is ' +
      'off, or the LDAP settings or attribute map are unusable.',
    codes: [
      'error-invalid-body-params',
      'error-action-not-allowed',
      'error-abac-not-enabled',
      'error-ldap-not-enabled',
      'error-abac-attribute-map-invalid',
      'error-ldap-settings-invalid',
    ],
  },
  401: {
    description: 'Not logged in: the same answer whatever was wrong with the user id or token.',
    codes: ['error-unauthorized'],
  },
  403: { description: 'The caller lacks a required permission.', codes: ['error-not-authorized'] },
  409: {
    description:
      'Several entries were found and none carries a mapped attribute while their users hold attributes: ' +
      'the attribute map or the bind account is broken. Nothing was written; details name the attributes.',
    codes: ['error-abac-mapping-matches-nothing'],
  },
  413: { description: 'The body is larger than the limit the host set.', codes: ['error-payload-too-large'] },
  429: {
    description: 'Too many requests from this caller, or too many failed logins from this address.',
    codes: ['error-too-many-requests'],
    retryAfter: true,
  },
  500: { description: 'An unexpected error; the body carries the request id.', codes: ['error-internal'] },
  503: {
    description: 'The directory or the database is unavailable. Nothing was written.',
    codes: ['error-ldap-unavailable', 'error-database-unavailable'],
    retryAfter: true,
  },
} as const satisfies Record<number, { description: string; codes: readonly string[]; retryAfter?: boolean }>;

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

/**
 * The OpenAPI 3.1 document of the route, generated from the schemas that validate the body and describe
 * the answers. `serverUrl` is where the host mounted the router (the route's path is relative to it).
 */
export function usersSyncOpenApiDocument(serverUrl = '/api/v1') {
  const registry = new OpenAPIRegistry();
  const responses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([status, response]) => [
      status,
      {
        description: response.description,
        headers: {
          ...requestIdHeader,
          ...('retryAfter' in response
            ? {
                'Retry-After': {
                  description: 'Seconds to wait before retrying.',
                  schema: { type: 'integer' as const },
                },
              }
            : {}),
        },
        content: {
          'application/json': { schema: errorBody(response.codes as unknown as [string, ...string[]]) },
        },
      },
    ]),
  );
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
      headers: z.object({
        'X-User-Id': z.string().meta({ description: 'The userId of the authenticated user.' }),
        'X-Auth-Token': z.string().meta({ description: 'The authToken of the authenticated user.' }),
        'X-Request-Id': z.string().optional().meta({
          description: 'Echoed in the response and logs when it is 1–64 letters, digits or ._:- characters.',
        }),
      }),
      body: {
        required: true,
        content: { 'application/json': { schema: documentedBody } },
      },
    },
    responses: {
      200: {
        description: 'The sync ran (or, with dryRun, was computed without writing).',
        headers: requestIdHeader,
        content: { 'application/json': { schema: syncResponseSchema } },
      },
      ...responses,
    },
  });
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'ABAC LDAP sync',
      version: '1',
      description: 'POST /api/v1/abac/users/sync, as served by the abac-ldap-sync module.',
    },
    servers: [{ url: serverUrl }],
  });
}
