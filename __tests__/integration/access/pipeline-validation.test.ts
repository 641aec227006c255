import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';

/** ABAC is off here: a body that passes validation is answered 400 error-abac-not-enabled (the next check). */
const PASSED_VALIDATION = 'error-abac-not-enabled';
const names = (count: number, prefix = 'user') =>
  Array.from({ length: count }, (_, index) => `${prefix}${index}`);

describe('body validation', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ bodyLimitBytes: 16 * 1024 });
    await setSettings(host.models, { ABAC_Enabled: false });
  });
  afterAll(() => host?.close());

  const post = (body: unknown, contentType = 'application/json') =>
    request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .set('Content-Type', contentType)
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  async function expectInvalid(body: unknown, contentType?: string) {
    const response = await post(body, contentType);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ success: false, error: 'error-invalid-body-params' });
    expect(Array.isArray(response.body.details)).toBe(true);
    expect(response.body.details[0]).toEqual({ path: expect.any(String), message: expect.any(String) });
    return response.body.details as { path: string; message: string }[];
  }

  it.each(['usernames', 'ids', 'emails', 'ldapIds'])(
    'accepts 100 items and refuses 101 in %s',
    async (list) => {
      expect((await post({ [list]: names(100) })).body.error).toBe(PASSED_VALIDATION);
      const details = await expectInvalid({ [list]: names(101) });
      expect(details[0]?.path).toBe(list);
    },
  );

  it.each(['usernames', 'ids', 'emails', 'ldapIds'])(
    'refuses an empty, duplicated or blank %s',
    async (list) => {
      await expectInvalid({ [list]: [] });
      expect((await expectInvalid({ [list]: ['a', 'b', 'a'] }))[0]).toEqual({
        path: `${list}.2`,
        message: 'duplicate item',
      });
      expect((await expectInvalid({ [list]: ['a', '   '] }))[0]?.path).toBe(`${list}.1`);
    },
  );

  it.each([
    ['a missing body', ''],
    ['an empty object', {}],
    ['only dryRun', { dryRun: true }],
    ['numbers', { usernames: [1, 2] }],
    ['an operator object', { usernames: [{ $ne: null }] }],
    ['an operator object instead of the list', { usernames: { $ne: null } }],
    ['nested arrays', { usernames: [['alice']] }],
    ['an unknown key', { usernames: ['alice'], extra: 1 }],
    ['a prototype key', '{"usernames":["alice"],"__proto__":{"polluted":true}}'],
    ['a constructor key', { usernames: ['alice'], constructor: { prototype: {} } }],
    ['a non-boolean dryRun', { usernames: ['alice'], dryRun: 'yes' }],
    ['null', 'null'],
    ['an array body', '[{"usernames":["alice"]}]'],
    ['a string body', '"alice"'],
    ['malformed JSON', '{"usernames": ["alice"'],
    ['an identifier longer than 1024 characters', { usernames: ['x'.repeat(1025)] }],
    ['a NUL in an identifier (found by the fuzz test: it made a 500)', { usernames: ['al\u0000ice'] }],
    ['another control character', { emails: ['bob\n@example.org'] }],
    ['half of a surrogate pair', '{"ids":["id-\\ud800"]}'],
  ])('refuses %s', async (_, body) => {
    await expectInvalid(body);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a body that is not sent as JSON', async () => {
    await expectInvalid('usernames=alice', 'application/x-www-form-urlencoded');
    await expectInvalid('{"usernames":["alice"]}', 'text/plain');
  });

  it('answers 413 error-payload-too-large for a body over the limit', async () => {
    const response = await post({ usernames: ['x'.repeat(20 * 1024)] });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ success: false, error: 'error-payload-too-large' });
  });

  it('accepts every list together with dryRun', async () => {
    const body = {
      usernames: ['alice'],
      ids: ['u1'],
      emails: ['bob@example.com'],
      ldapIds: ['ab12'],
      dryRun: true,
    };
    expect((await post(body)).body.error).toBe(PASSED_VALIDATION);
  });

  it('writes nothing for an invalid body', async () => {
    const before = await Promise.all([
      host.models.users.countDocuments(),
      host.models.serverEvents.countDocuments(),
    ]);
    await expectInvalid({ usernames: [{ $ne: null }] });
    const after = await Promise.all([
      host.models.users.countDocuments(),
      host.models.serverEvents.countDocuments(),
    ]);
    expect(after).toEqual(before);
  });

  it('echoes a well-formed X-Request-Id and makes one otherwise', async () => {
    const echoed = await post({ usernames: ['alice'] }).set('X-Request-Id', 'req-123');
    expect(echoed.headers['x-request-id']).toBe('req-123');
    const made = await post({ usernames: ['alice'] }).set('X-Request-Id', 'bad id with spaces');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
