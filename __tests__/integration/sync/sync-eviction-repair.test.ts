import { Registry } from 'prom-client';
import request from 'supertest';
import type { RoomMemberRemover } from '../../../lib/sync/room-member-remover';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  seedAliceInSalesRoom,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

// Alice's entry says department eng; seedAliceInSalesRoom stores her with sales, in the ABAC room "sales".

async function evictionState(host: TestHost) {
  const [alice, room, subscriptions, messages, revocations] = await Promise.all([
    host.models.users.findById('u-alice').lean(),
    host.models.rooms.findById('r-sales').lean(),
    host.models.subscriptions.countDocuments({ rid: 'r-sales', 'u._id': 'u-alice' }),
    host.models.messages.countDocuments({ rid: 'r-sales', t: 'abac-removed-user-from-room', msg: 'alice' }),
    host.models.serverEvents.countDocuments({ t: 'abac.action.performed' }),
  ]);
  return { rooms: alice?.__rooms, usersCount: room?.usersCount, subscriptions, messages, revocations };
}

/** The report of the sync that completes alice's eviction: her attributes were already written. */
const UNCHANGED_BUT_REVOKED = [
  {
    _id: 'u-alice',
    username: 'alice',
    status: 'unchanged',
    roomsRevoked: [{ _id: 'r-sales', name: 'sales' }],
  },
];

const EVICTED_ONCE = { rooms: [], usersCount: 2, subscriptions: 0, messages: 1, revocations: 1 };

describe('an eviction cut short by a fault is completed by the next sync', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  afterEach(() => host?.close());

  it('after a room update fails: the next sync evicts exactly once although the attributes are unchanged', async () => {
    host = await startTestHost();
    // $inc on a non-numeric usersCount is refused by the server: a real write fault after the attribute write.
    await seedAliceInSalesRoom(host.models, { usersCount: 'three' });
    const first = await sync({ usernames: ['alice'] });
    expect(first.status).toBe(500);
    expect((await host.models.users.findById('u-alice').lean())?.abacAttributes?.[0]?.values).toContain(
      'eng',
    );

    await host.models.rooms.updateOne({ _id: 'r-sales' }, { $set: { usersCount: 3 } });
    const second = await sync({ usernames: ['alice'] });
    expect(second.status).toBe(200);
    expect(second.body.users).toEqual(UNCHANGED_BUT_REVOKED);
    expect(await evictionState(host)).toEqual(EVICTED_ONCE);

    const third = await sync({ usernames: ['alice'] });
    expect(third.body.users).toEqual([{ _id: 'u-alice', username: 'alice', status: 'unchanged' }]);
    expect(await evictionState(host)).toEqual(EVICTED_ONCE);
  });

  it('after the message insert fails: the next sync completes the eviction, each effect once', async () => {
    host = await startTestHost();
    await seedAliceInSalesRoom(host.models);
    // An unrelated message and a unique index on the text: the removal message is refused.
    const messages = host.connection.collection('rocketchat_message');
    await messages.insertOne({ _id: 'm-other' as never, rid: 'r-other', msg: 'alice', ts: new Date() });
    await messages.createIndex({ msg: 1 }, { unique: true, name: 'block_message' });
    expect((await sync({ usernames: ['alice'] })).status).toBe(500);
    await messages.dropIndex('block_message');

    const second = await sync({ usernames: ['alice'] });
    expect(second.body.users).toEqual(UNCHANGED_BUT_REVOKED);
    expect(await evictionState(host)).toEqual(EVICTED_ONCE);
  });

  it("after a host's remover fails: the next sync evicts the user whose attributes it already wrote", async () => {
    let failNext = true;
    const removed: string[] = [];
    const flakyRemover: RoomMemberRemover = {
      remove: async (removals) => {
        if (failNext) {
          failNext = false;
          throw new Error('room service down');
        }
        removed.push(...removals.map(({ user, room }) => `${user._id}:${room._id}`));
        return removals.filter((removal) => removal.subscriptionIds.length > 0);
      },
    };
    host = await startTestHost({ memberRemover: flakyRemover });
    await seedAliceInSalesRoom(host.models);
    expect((await sync({ usernames: ['alice'] })).status).toBe(500);
    const second = await sync({ usernames: ['alice'] });
    expect(second.body.users).toEqual(UNCHANGED_BUT_REVOKED);
    expect(removed).toEqual(['u-alice:r-sales']);
    expect(await host.models.serverEvents.countDocuments({ t: 'abac.action.performed' })).toBe(1);
  });

  it('evicts a user whose attributes are unchanged but who sits in a room they do not satisfy', async () => {
    host = await startTestHost();
    await seedAliceInSalesRoom(host.models);
    await host.models.users.updateOne(
      { _id: 'u-alice' },
      {
        $set: {
          abacAttributes: [
            { key: 'department', values: ['eng', 'eng-platform'] },
            { key: 'employeeType', values: ['staff'] },
            { key: 'groups', values: ['cn=engineering,ou=groups,dc=example,dc=org'] },
          ],
        },
      },
    );
    const dryRun = await sync({ usernames: ['alice'], dryRun: true });
    expect(dryRun.body.users).toEqual(UNCHANGED_BUT_REVOKED);
    const response = await sync({ usernames: ['alice'] });
    expect(response.body.users).toEqual(dryRun.body.users);
    expect(await evictionState(host)).toEqual(EVICTED_ONCE);
  });
});

describe('stale room membership lists', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  beforeAll(async () => {
    host = await startTestHost();
    await seedAliceInSalesRoom(host.models);
    // __rooms names the room but there is no subscription: nothing to remove, only the list to repair.
    await host.models.subscriptions.deleteMany({});
  });
  afterAll(() => host?.close());

  it('a dry run and a real run agree: no room is reported, no message, no audit, usersCount untouched', async () => {
    const dryRun = await sync({ usernames: ['alice'], dryRun: true });
    expect(dryRun.body.users).toEqual([expect.objectContaining({ status: 'updated', roomsRevoked: [] })]);
    const response = await sync({ usernames: ['alice'] });
    expect(response.body.users).toEqual([expect.objectContaining({ status: 'updated', roomsRevoked: [] })]);
    expect(response.body.summary.roomsRevoked).toBe(0);
    expect(await evictionState(host)).toEqual({
      rooms: [],
      usersCount: 3,
      subscriptions: 0,
      messages: 0,
      revocations: 0,
    });
  });
});

describe('audit writes', () => {
  let host: TestHost;
  const registry = new Registry();
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  beforeAll(async () => {
    host = await startTestHost({ metricsRegistry: registry });
    await seedAliceInSalesRoom(host.models);
  });
  afterAll(() => host?.close());

  it('a failed audit write is counted in a metric and the event is written by the next sync, once', async () => {
    // One event of each type already stored and a unique index on the type: our inserts are refused.
    const events = host.connection.collection('rocketchat_server_events');
    await events.insertMany([
      { _id: 'x1' as never, t: 'abac.subject.attribute.changed', ts: new Date(), data: [] },
      { _id: 'x2' as never, t: 'abac.action.performed', ts: new Date(), data: [] },
    ]);
    await events.createIndex({ t: 1 }, { unique: true, name: 'block_audit' });
    const first = await sync({ usernames: ['alice'] });
    expect(first.status).toBe(200);
    expect(first.body.users).toEqual([expect.objectContaining({ status: 'updated' })]);
    const failures = (await registry.metrics())
      .split('\n')
      .find((line) => line.startsWith('abac_ldap_sync_audit_write_failures_total '));
    expect(failures).toBe('abac_ldap_sync_audit_write_failures_total 2');
    expect(await events.countDocuments({ _id: { $nin: ['x1', 'x2'] } as never })).toBe(0);

    await events.dropIndex('block_audit');
    const second = await sync({ usernames: ['alice'] });
    expect(second.body.users).toEqual([expect.objectContaining({ status: 'unchanged' })]);
    const written = await events.find({ _id: { $nin: ['x1', 'x2'] } as never }).toArray();
    expect(written.map((event) => event.t).sort()).toEqual([
      'abac.action.performed',
      'abac.subject.attribute.changed',
    ]);
    const change = written.find((event) => event.t === 'abac.subject.attribute.changed');
    expect(change?.data).toEqual(
      expect.arrayContaining([
        { key: 'subject', value: { _id: 'u-alice', username: 'alice' } },
        { key: 'removed', value: [{ key: 'department', values: ['sales'] }] },
      ]),
    );
    await sync({ usernames: ['alice'] });
    expect(await events.countDocuments({ _id: { $nin: ['x1', 'x2'] } as never })).toBe(2);
  });
});
