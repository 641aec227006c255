import request from 'supertest';
import { hashLoginToken } from '../../../lib/access/authenticator';
import { snapshotDatabase } from '../../helpers/database';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  ADMIN_TOKEN,
  DAY_MS,
  SYNC_URL,
  setSettings,
  startTestHost,
  type TestHost,
  userWithToken,
} from '../../helpers/host';

const unauthorized = { success: false, error: 'error-unauthorized' };
const validBody = { usernames: ['nobody-at-all'] };

describe('authentication (X-User-Id + X-Auth-Token)', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost();
    const now = host.clock.now();
    await host.models.users.create([
      userWithToken({
        _id: 'inactive-admin',
        username: 'former',
        token: 'former-token',
        issuedAt: now,
        active: false,
      }),
      userWithToken({
        _id: 'stale-admin',
        username: 'stale',
        token: 'stale-token',
        issuedAt: now - 365 * DAY_MS,
      }),
      userWithToken({
        _id: 'other-user',
        username: 'other',
        token: 'other-token',
        issuedAt: now,
        roles: ['user'],
      }),
    ]);
  });
  afterAll(() => host?.close());

  const post = (headers: Record<string, string>, body: object | string = validBody) =>
    request(host.app).post(SYNC_URL).set(headers).set('Content-Type', 'application/json').send(body);

  it.each([
    ['no headers', {}],
    ['only the user id', { 'X-User-Id': ADMIN_ID }],
    ['only the token', { 'X-Auth-Token': ADMIN_TOKEN }],
    ['an unknown user', { 'X-User-Id': 'ghost', 'X-Auth-Token': ADMIN_TOKEN }],
    ['a wrong token', { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' }],
    ["another user's token", { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'other-token' }],
    ['an inactive admin', { 'X-User-Id': 'inactive-admin', 'X-Auth-Token': 'former-token' }],
  ])('refuses %s with 401', async (_, headers) => {
    const response = await post(headers);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject(unauthorized);
  });

  it('answers every refusal with the same exact body and headers, and writes nothing', async () => {
    const refusals: Array<[string, Record<string, string>]> = [
      ['no headers', {}],
      ['an unknown user', { 'X-User-Id': 'ghost', 'X-Auth-Token': ADMIN_TOKEN }],
      ['a wrong token', { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' }],
      ['an expired token', { 'X-User-Id': 'stale-admin', 'X-Auth-Token': 'stale-token' }],
      ["another user's token", { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'other-token' }],
      ['an inactive admin', { 'X-User-Id': 'inactive-admin', 'X-Auth-Token': 'former-token' }],
      ['an oversized user id', { 'X-User-Id': 'x'.repeat(600), 'X-Auth-Token': ADMIN_TOKEN }],
    ];
    const before = await snapshotDatabase(host.connection);
    for (const [, headers] of refusals) {
      const response = await post(headers, { usernames: ['alice'], dryRun: false });
      // The same three fields whoever is named: nothing says whether the user or the token exists.
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ ...unauthorized, message: 'You must be logged in to do this.' });
      expect(response.headers['retry-after']).toBeUndefined();
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    }
    const forbidden = await post({ 'X-User-Id': 'other-user', 'X-Auth-Token': 'other-token' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      success: false,
      error: 'error-not-authorized',
      message: 'Missing required ABAC permissions',
    });
    expect(await snapshotDatabase(host.connection)).toBe(before);
  });

  it('answers 401 before looking at a bad body', async () => {
    const response = await post({ 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' }, '{not json');
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject(unauthorized);
  });

  it('accepts a fresh token and refuses it once older than Accounts_LoginExpiration days', async () => {
    await setSettings(host.models, { ABAC_Enabled: false });
    host.clock.advance(6000);
    expect((await post(ADMIN_HEADERS)).body.error).toBe('error-abac-not-enabled');

    await setSettings(host.models, { Accounts_LoginExpiration: 2 });
    host.clock.advance(2 * DAY_MS + 6000);
    const expired = await post(ADMIN_HEADERS);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject(unauthorized);
  });

  it('refuses a revoked token', async () => {
    await host.models.users.updateOne({ _id: 'other-user' }, { $set: { 'services.resume.loginTokens': [] } });
    const response = await post({ 'X-User-Id': 'other-user', 'X-Auth-Token': 'other-token' });
    expect(response.status).toBe(401);
  });
});

describe('personal access tokens', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
    // As Rocket.Chat stores them: type and createdAt, no `when`; they do not expire by login expiration.
    await host.models.users.create({
      _id: 'pat-admin',
      username: 'automation',
      active: true,
      roles: ['admin'],
      services: {
        resume: {
          loginTokens: [
            {
              hashedToken: hashLoginToken('pat-secret'),
              type: 'personalAccessToken',
              createdAt: new Date(host.clock.now() - 400 * DAY_MS),
              name: 'nightly sync',
            },
          ],
        },
      },
    });
  });
  afterAll(() => host?.close());

  it('accepts a personal access token older than Accounts_LoginExpiration days', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set({ 'X-User-Id': 'pat-admin', 'X-Auth-Token': 'pat-secret' })
      .send({ usernames: ['nobody'] });
    expect(response.status).toBe(200);
  });

  it('names the signed-in user at /me, behind the whole gate', async () => {
    const me = await request(host.app).get(`${SYNC_URL}/me`).set(ADMIN_HEADERS);
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ success: true, user: { _id: ADMIN_ID, username: 'root' } });
    const wrong = await request(host.app)
      .get(`${SYNC_URL}/me`)
      .set({ 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject(unauthorized);
    await host.models.users.create(
      userWithToken({
        _id: 'plain-user',
        username: 'plain',
        token: 'plain-token',
        issuedAt: host.clock.now(),
        roles: ['user'],
      }),
    );
    const notAdmin = await request(host.app)
      .get(`${SYNC_URL}/me`)
      .set({ 'X-User-Id': 'plain-user', 'X-Auth-Token': 'plain-token' });
    expect(notAdmin.status).toBe(403);
  });

  it('still refuses a wrong token for that user', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set({ 'X-User-Id': 'pat-admin', 'X-Auth-Token': 'pat-secreT' })
      .send({ usernames: ['nobody'] });
    expect(response.status).toBe(401);
  });
});
