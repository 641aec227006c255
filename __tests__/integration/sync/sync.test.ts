import request from 'supertest';
import { testServers } from '../../../harness/test-servers';
import type { Logger } from '../../../lib/logger';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  SYNC_URL,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const base = testServers().ldap.baseDN;
const ENGINEERING = `cn=engineering,ou=groups,${base}`;
const GUID_HEX = Buffer.from('4AQlP4lP0xGaDAMF6CwzAQ==', 'base64').toString('hex');

const infoLines: object[] = [];
const recordingLogger: Logger = {
  debug: () => undefined,
  info: (fields) => infoLines.push(fields),
  warn: () => undefined,
  error: () => undefined,
};

function user(_id: string, username: string, extra: Record<string, unknown> = {}) {
  return {
    _id,
    username,
    active: true,
    ldap: true,
    roles: ['user'],
    emails: [{ address: `${username}@example.org`, verified: true }],
    ...extra,
  };
}

describe('POST /abac/users/sync against the real directory', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const attributesOf = async (id: string) => (await host.models.users.findById(id).lean())?.abacAttributes;

  beforeAll(async () => {
    host = await startTestHost({ logger: recordingLogger });
    await host.models.users.create([
      user('u-alice', 'alice'),
      user('u-bob', 'bob', {
        abacAttributes: [
          { key: 'department', values: ['eng', 'eng-platform'] },
          { key: 'employeeType', values: ['contractor'] },
          { key: 'groups', values: [ENGINEERING] },
        ],
        __rooms: ['r-eng', 'r-platform', 'r-plain'],
      }),
      user('u-carol', 'carol', { emails: [{ address: 'Carol@Example.org', verified: true }] }),
      user('u-dave', 'dave', { abacAttributes: [{ key: 'department', values: ['old'] }] }),
      user('u-ghost', 'ghost', { abacAttributes: [{ key: 'department', values: ['kept'] }] }),
      user('u-twin', 'twin'),
      user('u-inject', '*)(uid=*'),
      user('u-star', 'star*user'),
      user('u-paren', 'paren(user)'),
      user('u-backslash', 'back\\slash'),
      user('u-zoe', 'zoë'),
      user('u-guid', 'renamed-in-chat', { services: { ldap: { id: GUID_HEX, idAttribute: 'objectGUID' } } }),
      user('u-inactive', 'inactive', { active: false }),
    ]);
    await host.models.rooms.create([
      {
        _id: 'r-eng',
        t: 'p',
        name: 'eng',
        usersCount: 5,
        abacAttributes: [{ key: 'department', values: ['eng'] }],
      },
      {
        _id: 'r-platform',
        t: 'p',
        name: 'platform',
        usersCount: 3,
        abacAttributes: [{ key: 'department', values: ['eng', 'eng-platform'] }],
      },
      { _id: 'r-plain', t: 'p', name: 'plain', usersCount: 9 },
    ]);
    await host.models.subscriptions.create(
      ['r-eng', 'r-platform', 'r-plain'].map((rid) => ({
        _id: `s-bob-${rid}`,
        rid,
        u: { _id: 'u-bob', username: 'bob' },
      })),
    );
  });
  afterAll(() => host?.close());

  it('maps a user found by username and audits the change with the calling admin as actor', async () => {
    const response = await sync({ usernames: ['alice'] }).set('X-Request-Id', 'req-alice');
    expect(response.status).toBe(200);
    const expected = [
      { key: 'department', values: ['eng', 'eng-platform'] },
      { key: 'employeeType', values: ['staff'] },
      { key: 'groups', values: [ENGINEERING] },
    ];
    expect(response.body).toEqual({
      success: true,
      dryRun: false,
      summary: {
        requested: 1,
        matched: 1,
        updated: 1,
        cleared: 0,
        unchanged: 0,
        notFoundInLdap: 0,
        failed: 0,
        roomsRevoked: 0,
      },
      users: [{ _id: 'u-alice', username: 'alice', status: 'updated', added: expected, removed: [] }],
      unmatched: { usernames: [], ids: [], emails: [], ldapIds: [] },
    });
    expect(await attributesOf('u-alice')).toEqual(expected);
    const events = await host.models.serverEvents.find({ t: 'abac.subject.attribute.changed' }).lean();
    expect(events).toHaveLength(1);
    expect(events[0]?.actor).toEqual({ type: 'user', _id: ADMIN_ID, username: 'root' });
    expect(events[0]?.data).toEqual([
      { key: 'subject', value: { _id: 'u-alice', username: 'alice' } },
      { key: 'reason', value: 'ldap-sync' },
      { key: 'requestId', value: 'req-alice' },
      { key: 'added', value: expected },
      { key: 'removed', value: [] },
    ]);
  });

  it('does not write an unchanged user', async () => {
    const before = await host.models.users.findById('u-alice').lean();
    const response = await sync({ usernames: ['ALICE'] });
    expect(response.body.users).toEqual([{ _id: 'u-alice', username: 'alice', status: 'unchanged' }]);
    expect(await host.models.users.findById('u-alice').lean()).toEqual(before);
    expect(await host.models.serverEvents.countDocuments()).toBe(1);
  });

  it('evicts a user who lost a value from exactly the ABAC rooms they no longer satisfy', async () => {
    const response = await sync({ ids: ['u-bob'] });
    expect(response.body.users).toEqual([
      {
        _id: 'u-bob',
        username: 'bob',
        status: 'updated',
        added: [],
        removed: [{ key: 'department', values: ['eng-platform'] }],
        roomsRevoked: [{ _id: 'r-platform', name: 'platform' }],
      },
    ]);
    expect(response.body.summary.roomsRevoked).toBe(1);
    const bob = await host.models.users.findById('u-bob').lean();
    expect(bob?.__rooms).toEqual(['r-eng', 'r-plain']);
    expect(await host.models.subscriptions.find({ 'u._id': 'u-bob' }).distinct('rid')).toEqual([
      'r-eng',
      'r-plain',
    ]);
    expect((await host.models.rooms.findById('r-platform').lean())?.usersCount).toBe(2);
    expect((await host.models.rooms.findById('r-eng').lean())?.usersCount).toBe(5);
    const messages = await host.models.messages.find().lean();
    expect(messages.map(({ rid, t, msg, u }) => ({ rid, t, msg, u }))).toEqual([
      {
        rid: 'r-platform',
        t: 'abac-removed-user-from-room',
        msg: 'bob',
        u: { _id: 'u-bob', username: 'bob' },
      },
    ]);
    const revocations = await host.models.serverEvents.find({ t: 'abac.action.performed' }).lean();
    expect(revocations.map((event) => event.data.slice(0, 3))).toEqual([
      [
        { key: 'action', value: 'revoked-object-access' },
        { key: 'subject', value: { _id: 'u-bob', username: 'bob' } },
        { key: 'object', value: { _id: 'r-platform', name: 'platform' } },
      ],
    ]);
  });

  it('clears a user whose entry has no mapped value, leaves users missing from LDAP untouched, fails ambiguous entries', async () => {
    const response = await sync({ usernames: ['dave', 'ghost', 'twin'] });
    const byId = Object.fromEntries(
      response.body.users.map((result: { _id: string }) => [result._id, result]),
    );
    expect(byId['u-dave']).toEqual({
      _id: 'u-dave',
      username: 'dave',
      status: 'cleared',
      added: [],
      removed: [{ key: 'department', values: ['old'] }],
      roomsRevoked: [],
    });
    expect(byId['u-ghost']).toEqual({ _id: 'u-ghost', username: 'ghost', status: 'notFoundInLdap' });
    expect(byId['u-twin']).toEqual({
      _id: 'u-twin',
      username: 'twin',
      status: 'failed',
      error: 'error-ldap-ambiguous-entry',
    });
    const dave = await host.models.users.findById('u-dave').lean();
    expect(dave && 'abacAttributes' in dave).toBe(false);
    expect(await attributesOf('u-ghost')).toEqual([{ key: 'department', values: ['kept'] }]);
    expect(await attributesOf('u-twin')).toBeUndefined();
  });

  it('matches usernames full of filter syntax to exactly their own entry', async () => {
    const response = await sync({
      usernames: ['*)(uid=*', 'star*user', 'paren(user)', 'back\\slash', 'zoë'],
    });
    expect(response.body.summary).toMatchObject({ matched: 5, updated: 5, failed: 0 });
    expect(await attributesOf('u-inject')).toEqual([{ key: 'department', values: ['injection-dept'] }]);
    expect(await attributesOf('u-star')).toEqual([{ key: 'department', values: ['star-dept'] }]);
    expect(await attributesOf('u-paren')).toEqual([{ key: 'department', values: ['paren-dept'] }]);
    expect(await attributesOf('u-backslash')).toEqual([{ key: 'department', values: ['backslash-dept'] }]);
    expect(await attributesOf('u-zoe')).toEqual([{ key: 'department', values: ['research'] }]);
  });

  it('finds a user by the raw bytes of objectGUID through ldapIds (any hex case) and decodes the GUID', async () => {
    await setSettings(host.models, {
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department', objectGUID: 'guid' }),
    });
    host.clock.advance(6000);
    const response = await sync({ ldapIds: [GUID_HEX.toUpperCase()] });
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-guid', status: 'updated' })]);
    expect(await attributesOf('u-guid')).toEqual([
      { key: 'department', values: ['guid-dept'] },
      { key: 'guid', values: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'] },
    ]);
  });

  it('identifies users by email and id, ignores case, syncs each once and reports the rest as unmatched', async () => {
    const response = await sync({
      usernames: ['CAROL', 'inactive', 'nobody'],
      emails: [' carol@example.ORG '],
      ids: ['u-carol', 'missing-id'],
      ldapIds: ['00ff'],
    });
    expect(response.body.summary).toMatchObject({ requested: 7, matched: 1 });
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-carol', username: 'carol' })]);
    expect(response.body.unmatched).toEqual({
      usernames: ['inactive', 'nobody'],
      ids: ['missing-id'],
      emails: [],
      ldapIds: ['00ff'],
    });
  });

  it('dry run reports the same outcome and writes nothing anywhere', async () => {
    await host.models.users.updateOne(
      { _id: 'u-alice' },
      { $set: { abacAttributes: [{ key: 'department', values: ['eng', 'sales'] }], __rooms: ['r-eng'] } },
    );
    await host.models.rooms.updateOne(
      { _id: 'r-eng' },
      { $set: { abacAttributes: [{ key: 'department', values: ['sales'] }] } },
    );
    await host.models.subscriptions.create({
      _id: 's-alice-r-eng',
      rid: 'r-eng',
      u: { _id: 'u-alice', username: 'alice' },
    });
    const snapshot = () =>
      Promise.all(
        [
          host.models.users,
          host.models.rooms,
          host.models.subscriptions,
          host.models.messages,
          host.models.serverEvents,
        ].map((model) => (model as typeof host.models.users).find().sort({ _id: 1 }).lean()),
      );
    const before = await snapshot();
    const response = await sync({ usernames: ['alice'], dryRun: true });
    expect(response.body.dryRun).toBe(true);
    expect(response.body.users).toEqual([
      expect.objectContaining({
        status: 'updated',
        removed: [{ key: 'department', values: ['sales'] }],
        roomsRevoked: [{ _id: 'r-eng', name: 'eng' }],
      }),
    ]);
    expect(await snapshot()).toEqual(before);
  });

  it('reads 100 users in at most 3 LDAP search round trips', async () => {
    await host.models.users.create(
      Array.from({ length: 100 }, (_, index) => user(`g-${index}`, `user${String(index).padStart(6, '0')}`)),
    );
    infoLines.length = 0;
    const response = await sync({
      usernames: Array.from({ length: 100 }, (_, index) => `user${String(index).padStart(6, '0')}`),
    });
    expect(response.body.summary).toMatchObject({ matched: 100, updated: 100 });
    const stats = infoLines.find((line) => 'ldapSearchRoundTrips' in line) as {
      ldapSearchRoundTrips: number;
      ldapEntries: number;
    };
    expect(stats.ldapEntries).toBe(100);
    expect(stats.ldapSearchRoundTrips).toBeLessThanOrEqual(3);
  });

  it('syncs when the page size is at or above the size limit (the server then answers without paging)', async () => {
    await setSettings(host.models, { LDAP_Search_Page_Size: 500, LDAP_Search_Size_Limit: 500 });
    host.clock.advance(6000);
    const response = await sync({
      usernames: Array.from({ length: 100 }, (_, index) => `user${String(index).padStart(6, '0')}`),
    });
    await setSettings(host.models, { LDAP_Search_Page_Size: 250, LDAP_Search_Size_Limit: 1000 });
    host.clock.advance(6000);
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ matched: 100, unchanged: 100, failed: 0 });
  });

  it('ends two concurrent syncs of overlapping users in the directory state, with one audit event per user', async () => {
    await host.models.users.updateMany(
      { _id: { $in: ['g-1', 'g-2', 'g-3'] } },
      { $unset: { abacAttributes: 1 } },
    );
    const eventsBefore = await host.models.serverEvents.countDocuments({
      t: 'abac.subject.attribute.changed',
    });
    const [first, second] = await Promise.all([
      sync({ usernames: ['user000001', 'user000002'] }),
      sync({ usernames: ['user000002', 'user000003'] }),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    for (const id of ['g-1', 'g-2', 'g-3']) {
      expect((await attributesOf(id))?.[0]?.key).toBe('department');
    }
    const eventsAfter = await host.models.serverEvents.countDocuments({
      t: 'abac.subject.attribute.changed',
    });
    expect(eventsAfter - eventsBefore).toBe(3);
  });
});
