import request from 'supertest';
import { snapshotDatabase } from './helpers/database';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  SYNC_URL,
  startTestHost,
  type TestHost,
  userWithToken,
} from './helpers/host';

const body = { usernames: ['nobody-at-all'] };
const tooMany = { success: false, error: 'error-too-many-requests' };

describe('rate limits', () => {
  let host: TestHost;
  const post = (headers: Record<string, string>) => request(host.app).post(SYNC_URL).set(headers).send(body);
  const second = { 'X-User-Id': 'second-admin', 'X-Auth-Token': 'second-token' };

  beforeAll(async () => {
    host = await startTestHost({ rateLimit: { syncsPerMinute: 3, failedAuthPerMinute: 2 } });
    await host.models.users.create(
      userWithToken({
        _id: 'second-admin',
        username: 'second',
        token: 'second-token',
        issuedAt: host.clock.now(),
      }),
    );
  });
  afterAll(() => host?.close());

  it('answers 429 with Retry-After once a caller is over the limit, and only that caller', async () => {
    for (let call = 0; call < 3; call += 1) expect((await post(ADMIN_HEADERS)).status).toBe(200);
    const before = await snapshotDatabase(host.connection);
    host.clock.advance(15_000);
    const refused = await post(ADMIN_HEADERS);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject(tooMany);
    expect(refused.headers['retry-after']).toBe('45');
    expect(await snapshotDatabase(host.connection)).toBe(before);

    expect((await post(second)).status).toBe(200);
    host.clock.advance(45_000);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
  });

  it('limits failed logins per client address, whoever they name, without saying whether the user exists', async () => {
    host.clock.advance(60_000);
    const wrong = [
      { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' },
      { 'X-User-Id': 'no-such-user', 'X-Auth-Token': 'wrong' },
    ];
    for (const headers of wrong) expect((await post(headers)).status).toBe(401);
    for (const headers of [...wrong, second]) {
      const refused = await post(headers);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ ...tooMany, message: expect.any(String) });
      expect(refused.headers['retry-after']).toBe('60');
    }
    host.clock.advance(60_000);
    expect((await post(second)).status).toBe(200);
  });

  it('counts nothing when limits are off', async () => {
    const unlimited = await startTestHost({ rateLimit: false });
    try {
      for (let call = 0; call < 20; call += 1) {
        const response = await request(unlimited.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
        expect(response.status).toBe(200);
      }
    } finally {
      await unlimited.close();
    }
  });
});
