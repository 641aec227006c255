import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import * as errors from '../../../lib/errors';
import { OUTSIDE_OPERATIONS } from '../../../routes/openapi';
import { ROUTES, USERS_SYNC_PATH as SYNC_PATH } from '../../../routes/route-specs';
import { z } from 'zod';
import { syncJobSchema } from '../../../lib/jobs/sync-job';
import { syncResponseSchema } from '../../../lib/sync/sync-report';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';
import { REPO_ROOT } from '../../helpers/paths';

interface Operation {
  operationId: string;
  responses: Record<
    string,
    {
      content: {
        'application/json': { schema: { $ref?: string; properties?: { error?: { enum?: string[] } } } };
      };
    }
  >;
}

/** Every error class the module defines, with the status and code it is answered with. */
function everyError(): Array<{ name: string; status: number; code: string }> {
  type ErrorClass = new (argument: unknown) => errors.AbacSyncError;
  return (Object.values(errors) as unknown[])
    .filter(
      (value): value is ErrorClass =>
        typeof value === 'function' && value.prototype instanceof errors.AbacSyncError,
    )
    .map((ErrorClass) => {
      const error = new ErrorClass([]);
      return { name: ErrorClass.name, status: error.status, code: error.code };
    });
}

describe('the OpenAPI document', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
    await host.models.users.create({ _id: 'u-alice', username: 'alice', active: true, ldap: true });
  });
  afterAll(() => host?.close());

  const fetchDocument = async () => {
    const response = await request(host.app).get(`${SYNC_URL}/openapi.json`);
    expect(response.status).toBe(200);
    return response.body as {
      openapi: string;
      info: { description: string };
      servers: Array<{ url: string }>;
      paths: Record<string, { post: Operation; get: Operation }>;
    };
  };

  it('documents exactly the routes the router serves: each is declared once, in routes/route-specs.ts', () => {
    const served = (
      host.sync.router.stack as { route?: { path: string; methods: Record<string, boolean> } }[]
    )
      .flatMap(({ route }) =>
        route && route.path.startsWith(SYNC_PATH) && !route.methods._all
          ? Object.keys(route.methods).map((method) => `${method} ${route.path}`)
          : [],
      )
      .filter((route) => route !== `get ${SYNC_PATH}/openapi.json`)
      .sort();
    const declared = Object.values(ROUTES)
      .map((route) => `${route.method} ${route.path}`)
      .sort();
    expect(served).toEqual(declared);
  });

  it('is served without authentication and validates as OpenAPI 3.1', async () => {
    const document = await fetchDocument();
    const result = JSON.parse(
      execFileSync(process.execPath, [join(REPO_ROOT, '__tests__', 'helpers', 'validate-openapi.mjs')], {
        input: JSON.stringify(document),
      }).toString(),
    ) as { valid: boolean; version: string; errors: unknown[] };
    expect(result).toEqual({ valid: true, version: '3.1.0', errors: [] });
    expect(document.servers).toEqual([{ url: '/api/v1' }]);
  });

  it('documents every error code on an operation, and the gate on every operation', async () => {
    const document = await fetchDocument();
    const all = Object.values(document.paths).flatMap((path) => Object.values(path) as Operation[]);
    expect(all).toHaveLength(13);
    // The health route is the one without the gate: load balancers call it without credentials.
    const operations = all.filter((operation) => operation.operationId !== 'readHealth');
    const health = document.paths['/abac/users/sync/health']!.get;
    expect(Object.keys(health.responses).sort()).toEqual(['200', '503']);
    const documented = (operation: Operation, status: number) =>
      operation.responses[String(status)]?.content['application/json'].schema.properties?.error?.enum ?? [];
    // Answered for what no operation takes, so said in the document's description instead.
    const outside = (code: string) => (OUTSIDE_OPERATIONS as readonly string[]).includes(code);
    const missing = everyError().filter(
      ({ status, code }) =>
        !outside(code) && !operations.some((operation) => documented(operation, status).includes(code)),
    );
    expect(missing).toEqual([]);
    for (const code of OUTSIDE_OPERATIONS) expect(document.info.description).toContain(code);
    expect(everyError().length).toBeGreaterThanOrEqual(16);
    // Only the routes that sync or queue a run check the settings; reading and stopping need the gate alone.
    const checkingSettings = [
      'syncUsersAbacAttributesFromLdap',
      'startDirectoryWideSync',
      'applyReviewedPlan',
      'planUndo',
    ];
    for (const operation of operations) {
      for (const [status, code] of [
        [401, 'error-unauthorized'],
        [403, 'error-not-authorized'],
        [429, 'error-too-many-requests'],
        [400, 'error-action-not-allowed'],
        [503, 'error-database-unavailable'],
      ] as const)
        expect(documented(operation, status)).toContain(code);
      expect(documented(operation, 400).includes('error-abac-not-enabled')).toBe(
        checkingSettings.includes(operation.operationId),
      );
    }
    const sync = document.paths['/abac/users/sync']!.post;
    expect(documented(sync, 503)).toContain('error-ldap-unavailable');
    expect(sync.responses['200']!.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SyncResponse',
    );
    const start = document.paths['/abac/users/sync/jobs']!.post;
    expect(documented(start, 409)).toEqual(['error-sync-already-running']);
    expect(start.responses['202']!.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SyncJobResponse',
    );
  });

  it('describes the job bodies the routes really send', async () => {
    const started = await request(host.app)
      .post(`${SYNC_URL}/jobs`)
      .set(ADMIN_HEADERS)
      .send({ dryRun: true });
    expect(started.status).toBe(202);
    const response = z.object({ success: z.literal(true), job: syncJobSchema.strict() }).strict();
    expect(response.safeParse(started.body).error).toBeUndefined();
    const busy = await request(host.app).post(`${SYNC_URL}/jobs`).set(ADMIN_HEADERS).send({});
    if (busy.status === 409) expect(syncJobSchema.strict().safeParse(busy.body.job).error).toBeUndefined();
    const read = await request(host.app).get(`${SYNC_URL}/jobs/${started.body.job._id}`).set(ADMIN_HEADERS);
    expect(response.safeParse(read.body).error).toBeUndefined();
    const list = await request(host.app).get(`${SYNC_URL}/jobs`).set(ADMIN_HEADERS);
    expect(
      z
        .object({
          success: z.literal(true),
          jobs: z.array(syncJobSchema.strict()),
          count: z.int(),
          offset: z.int(),
          total: z.int(),
        })
        .strict()
        .safeParse(list.body).error,
    ).toBeUndefined();
  });

  it('describes the 200 body the route really sends', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['alice', 'ghost'] });
    expect(response.status).toBe(200);
    expect(syncResponseSchema.strict().safeParse(response.body).error).toBeUndefined();
  });
});
