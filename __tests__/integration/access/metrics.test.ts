import { Registry } from 'prom-client';
import request from 'supertest';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  seedAliceInSalesRoom,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

/** One sample's value from the registry's text exposition (what Prometheus scrapes). */
async function sample(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Prometheus metrics', () => {
  let host: TestHost;
  const registry = new Registry();

  beforeAll(async () => {
    host = await startTestHost({ metricsRegistry: registry });
    await seedAliceInSalesRoom(host.models);
    await host.models.users.create({ _id: 'u-ghost', username: 'ghost', active: true, ldap: true });
  });
  afterAll(() => host?.close());

  it('counts answers by outcome, errors by code, users by status, evictions and LDAP round trips', async () => {
    const sync = (body: object, headers: Record<string, string> = ADMIN_HEADERS) =>
      request(host.app).post(SYNC_URL).set(headers).send(body);
    expect((await sync({ usernames: ['alice', 'ghost'], dryRun: true })).status).toBe(200);
    expect((await sync({ usernames: ['alice', 'ghost'] })).status).toBe(200);
    expect((await sync({ usernames: ['alice'] })).status).toBe(200);
    expect((await sync({ usernames: [] })).status).toBe(400);
    expect((await sync({ usernames: ['alice'] }, {})).status).toBe(401);

    const expected: Array<[string, number]> = [
      ['abac_ldap_sync_requests_total{outcome="dry_run"}', 1],
      ['abac_ldap_sync_requests_total{outcome="completed"}', 2],
      ['abac_ldap_sync_requests_total{outcome="rejected"}', 2],
      ['abac_ldap_sync_errors_total{code="error-invalid-body-params"}', 1],
      ['abac_ldap_sync_errors_total{code="error-unauthorized"}', 1],
      ['abac_ldap_sync_users_total{status="updated"}', 1],
      ['abac_ldap_sync_users_total{status="unchanged"}', 1],
      ['abac_ldap_sync_users_total{status="notFoundInLdap"}', 1],
      ['abac_ldap_sync_users_total{status="failed"}', 0],
      ['abac_ldap_sync_evictions_total', 1],
      // Each of the three syncs read its users in one search.
      ['abac_ldap_sync_ldap_search_round_trips_total', 3],
      ['abac_ldap_sync_request_duration_seconds_count{outcome="completed"}', 2],
      ['abac_ldap_sync_phase_duration_seconds_count{phase="ldap"}', 3],
    ];
    const actual = await Promise.all(
      expected.map(async ([series]) => [series, await sample(registry, series)]),
    );
    expect(actual).toEqual(expected);
  });

  it('adds to the same series when a second router shares the registry', async () => {
    const second = await startTestHost({ metricsRegistry: registry });
    try {
      await request(second.app)
        .post(SYNC_URL)
        .send({ usernames: ['alice'] });
      expect(await sample(registry, 'abac_ldap_sync_errors_total{code="error-unauthorized"}')).toBe(2);
    } finally {
      await second.close();
    }
  });
});
