import request from 'supertest';
import { memoryRateLimit } from '../../../lib/access/rate-limit';
import { MongoRateLimits } from '../../../mongo/mongo-rate-limit';
import { snapshotDatabase } from '../../helpers/database';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost, userWithToken } from '../../helpers/host';

const body = { usernames: ['nobody-at-all'] };
const tooMany = { success: false, error: 'error-too-many-requests' };

// rate-limiter-flexible reads Date.now(): the test moves Date (only Date) together with the host's clock.
const EVERYTHING_BUT_DATE = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;

describe('rate limits (counted in MongoDB)', () => {
  let host: TestHost;
  const advance = (ms: number) => {
    host.clock.advance(ms);
    jest.setSystemTime(host.clock.now());
  };
  const post = (headers: Record<string, string>) => request(host.app).post(SYNC_URL).set(headers).send(body);
  const second = { 'X-User-Id': 'second-admin', 'X-Auth-Token': 'second-token' };

  beforeAll(async () => {
    jest.useFakeTimers({ doNotFake: [...EVERYTHING_BUT_DATE] });
    host = await startTestHost({
      rateLimit: {
        syncsPerMinute: 3,
        readsPerMinute: 3,
        failedAuthPerMinute: 2,
        failedAuthPerAddressPerMinute: 6,
      },
    });
    await host.models.users.create(
      userWithToken({
        _id: 'second-admin',
        username: 'second',
        token: 'second-token',
        issuedAt: host.clock.now(),
      }),
    );
    jest.setSystemTime(host.clock.now());
  });
  afterAll(async () => {
    await host?.close();
    jest.useRealTimers();
  });

  it('answers 429 with Retry-After once a caller is over the limit, and only that caller', async () => {
    for (let call = 0; call < 3; call += 1) expect((await post(ADMIN_HEADERS)).status).toBe(200);
    // The limit's own counter is the one thing a refused request changes (as it did in memory before).
    const everythingButTheCounters = { except: ['abac_sync_rate_limits'] };
    const before = await snapshotDatabase(host.connection, everythingButTheCounters);
    advance(15_000);
    const refused = await post(ADMIN_HEADERS);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject(tooMany);
    expect(refused.headers['retry-after']).toBe('45');
    expect(await snapshotDatabase(host.connection, everythingButTheCounters)).toBe(before);

    expect((await post(second)).status).toBe(200);
    advance(45_000);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
  });

  it('counts reads apart from syncs, and never refuses a cancel or a discard', async () => {
    const third = userWithToken({
      _id: 'third-admin',
      username: 'third',
      token: 'third-token',
      issuedAt: host.clock.now(),
    });
    await host.models.users.create(third);
    const headers = { 'X-User-Id': 'third-admin', 'X-Auth-Token': 'third-token' };
    for (let call = 0; call < 3; call += 1) expect((await post(headers)).status).toBe(200);
    expect((await post(headers)).status).toBe(429);
    // Following a run and the feed: reads have a limit of their own (3 here), not the syncs'.
    for (let call = 0; call < 3; call += 1)
      expect((await request(host.app).get(`${SYNC_URL}/jobs`).set(headers)).status).toBe(200);
    const tooManyReads = await request(host.app).get(`${SYNC_URL}/feed`).set(headers);
    expect(tooManyReads.status).toBe(429);
    // Stopping is never refused by a limit.
    const cancel = await request(host.app).post(`${SYNC_URL}/jobs/nope/cancel`).set(headers).send({});
    expect(cancel.status).toBe(404);
    const discard = await request(host.app).post(`${SYNC_URL}/feed/discard`).set(headers).send({});
    expect(discard.status).toBe(409);
    advance(60_000);
  });

  it('limits failed logins per address and named user, without saying whether the user exists', async () => {
    advance(60_000);
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
    advance(60_000);
    expect((await post(second)).status).toBe(200);
  });

  it('limits failures per address more loosely, still letting in a user who logged in from there', async () => {
    // Past the 10 minutes for which a login from an address is remembered.
    advance(11 * 60_000);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
    // Six failures naming six users: under each pair's limit, at the address's limit (6).
    for (let user = 0; user < 6; user += 1)
      expect((await post({ 'X-User-Id': `sprayed-${user}`, 'X-Auth-Token': 'wrong' })).status).toBe(401);
    expect((await post({ 'X-User-Id': 'sprayed-new', 'X-Auth-Token': 'wrong' })).status).toBe(429);
    expect((await post(second)).status).toBe(429);
    expect((await post(ADMIN_HEADERS)).status).toBe(200);
  });

  it('sweeps ended windows from MongoDB, which this server does not expire by TTL', async () => {
    const limits = new MongoRateLimits(host.models.rateLimits);
    const flood = limits.limit('flood', { limit: 1, windowMs: 60_000 });
    for (let key = 0; key < 200; key += 1) await flood.take(`address-${key}`);
    expect(await flood.take('address-199')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(await host.models.rateLimits.countDocuments({ key: /^flood:/ })).toBe(200);

    advance(61_000);
    // The next count sweeps (at most once a minute per process): only the new window is left.
    expect(await flood.take('address-0')).toEqual({ allowed: true });
    expect(await host.models.rateLimits.find({ key: /^flood:/ }, { _id: 0, key: 1 }).lean()).toEqual([
      { key: 'flood:address-0' },
    ]);
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

describe('rate limits counted in memory (the option)', () => {
  it('keeps the 429 contract and writes nothing to MongoDB', async () => {
    const host = await startTestHost({ rateLimit: { syncsPerMinute: 2, store: 'memory' } });
    try {
      for (let call = 0; call < 2; call += 1)
        expect((await request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body)).status).toBe(200);
      const refused = await request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject(tooMany);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
      expect(await host.models.rateLimits.countDocuments()).toBe(0);
    } finally {
      await host.close();
    }
  });

  it('checks without counting, and counts with take', async () => {
    const limit = memoryRateLimit({ limit: 2, windowMs: 60_000 });
    expect(await limit.check('k')).toEqual({ allowed: true });
    expect(await limit.take('k')).toEqual({ allowed: true });
    expect(await limit.check('k')).toEqual({ allowed: true });
    expect(await limit.take('k')).toEqual({ allowed: true });
    expect(await limit.check('k')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(await limit.take('k')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(await limit.check('other')).toEqual({ allowed: true });
  });
});
