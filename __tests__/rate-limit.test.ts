import request from 'supertest';
import { RateLimiter } from '../lib/http/rate-limiter';
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
    host = await startTestHost({
      rateLimit: { syncsPerMinute: 3, failedAuthPerMinute: 2, failedAuthPerAddressPerMinute: 6 },
    });
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

  it('limits failed logins per address and named user, without saying whether the user exists', async () => {
    host.clock.advance(60_000);
    const wrong = [
      { 'X-User-Id': 'no-such-user', 'X-Auth-Token': 'wrong' },
      { 'X-User-Id': 'second-admin', 'X-Auth-Token': 'wrong' },
    ];
    for (const headers of wrong) {
      for (let attempt = 0; attempt < 2; attempt += 1) expect((await post(headers)).status).toBe(401);
      const refused = await post(headers);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ ...tooMany, message: expect.any(String) });
      expect(refused.headers['retry-after']).toBe('60');
    }
    // That user from that address is locked out for the window, even with the right token ...
    expect((await post(second)).status).toBe(429);
    // ... while a correct login naming another user is not refused because others failed.
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
    host.clock.advance(60_000);
    expect((await post(second)).status).toBe(200);
  });

  it('limits failures per address more loosely, still letting in a user who logged in from there', async () => {
    // Past the 10 minutes for which a login from an address is remembered.
    host.clock.advance(11 * 60_000);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
    // Six failures naming six users: under each pair's limit, at the address's limit (6).
    for (let user = 0; user < 6; user += 1)
      expect((await post({ 'X-User-Id': `sprayed-${user}`, 'X-Auth-Token': 'wrong' })).status).toBe(401);
    expect((await post({ 'X-User-Id': 'sprayed-new', 'X-Auth-Token': 'wrong' })).status).toBe(429);
    expect((await post(second)).status).toBe(429);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
  });

  it('keeps memory bounded under failures from a flood of addresses', async () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000, maxKeys: 1000 }, host.clock);
    for (let key = 0; key < 50_000; key += 1) limiter.take(`address-${key}`);
    expect(limiter.size).toBeLessThanOrEqual(1000);
    // The newest keys are still counted.
    expect(limiter.check('address-49999')).toEqual({ allowed: false, retryAfterSeconds: 60 });
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
