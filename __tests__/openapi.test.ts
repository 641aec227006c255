import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import * as errors from '../lib/errors';
import { syncResponseSchema } from '../lib/sync/sync-report';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from './helpers/host';

interface Operation {
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
      servers: Array<{ url: string }>;
      paths: Record<string, { post: Operation }>;
    };
  };

  it('is served without authentication and validates as OpenAPI 3.1', async () => {
    const document = await fetchDocument();
    const result = JSON.parse(
      execFileSync(process.execPath, [join(__dirname, 'helpers', 'validate-openapi.mjs')], {
        input: JSON.stringify(document),
      }).toString(),
    ) as { valid: boolean; version: string; errors: unknown[] };
    expect(result).toEqual({ valid: true, version: '3.1.0', errors: [] });
    expect(document.servers).toEqual([{ url: '/api/v1' }]);
  });

  it('lists every status and error code the route can answer with', async () => {
    const operation = (await fetchDocument()).paths['/abac/users/sync']!.post;
    const documented = (status: number) =>
      operation.responses[String(status)]?.content['application/json'].schema.properties?.error?.enum ?? [];
    const missing = everyError().filter(({ status, code }) => !documented(status).includes(code));
    expect(missing).toEqual([]);
    expect(everyError().length).toBeGreaterThanOrEqual(13);
    expect(operation.responses['200']!.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/SyncResponse',
    );
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
