import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { syncJobSchema } from '../lib/jobs/sync-job';
import type { ErrorResponse } from './error-responses';
import { ROUTES, type RouteSpec } from './route-specs';

export { ERROR_RESPONSES, OUTSIDE_OPERATIONS } from './error-responses';

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

/**
 * The OpenAPI 3.1 document of the routes, generated from the schemas that validate the bodies and describe
 * the answers. `serverUrl` is where the host mounted the router (the paths are relative to it).
 */
export function usersSyncOpenApiDocument(serverUrl = '/api/v1') {
  const registry = new OpenAPIRegistry();
  for (const route of Object.values(ROUTES) as RouteSpec[]) registry.registerPath(operationOf(route));
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

/** One route's OpenAPI operation, from its declaration. */
function operationOf(route: RouteSpec): RouteConfig {
  const answer = (description: string, schema: z.ZodType) => ({
    description,
    headers: requestIdHeader,
    content: { 'application/json': { schema } },
  });
  return {
    method: route.method,
    path: route.path.replace(/:([A-Za-z]+)/g, '{$1}'),
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.access === 'public'
      ? {}
      : {
          request: {
            headers: authHeaders,
            ...(route.params ? { params: route.params } : {}),
            ...(route.query ? { query: route.query } : {}),
            ...(route.body
              ? {
                  body: {
                    required: route.body.required,
                    content: { 'application/json': { schema: route.body.schema } },
                  },
                }
              : {}),
          },
        }),
    responses: {
      [route.success.status]: answer(route.success.description, route.success.schema),
      ...Object.fromEntries(
        Object.entries(route.otherAnswers ?? {}).map(([status, other]) => [
          status,
          answer(other.description, other.schema),
        ]),
      ),
      ...errorResponses(route.errors ?? {}),
    },
  };
}
