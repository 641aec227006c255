import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../../harness/test-servers';
import { evictionKey } from '../../../lib/sync/room-member-remover';
import type { RoomRestoration } from '../../../lib/sync/room-member-restorer';
import { createModels, ensureIndexes, type Models } from '../../../models';
import { MongoRoomMemberRemover } from '../../../mongo/room-member-remover';
import { MongoRoomMemberRestorer } from '../../../mongo/room-member-restorer';
import { ManualClock } from '../../helpers/host';

const ADMIN = { _id: 'u-admin', username: 'root' };
/** bob's subscription as the chat server kept it: read state, roles, preferences. */
const BOB = {
  _id: 's-bob',
  rid: 'r-big',
  u: { _id: 'u-bob', username: 'bob' },
  ts: new Date('2026-01-05T09:00:00Z'),
  ls: new Date('2026-12-01T17:30:00Z'),
  unread: 4,
  roles: ['moderator'],
};
const restoration = (restoreId = 'grant-1'): RoomRestoration => ({
  user: { _id: 'u-bob', username: 'bob' },
  room: { _id: 'r-big', name: 'big' },
  subscription: BOB,
  restoreId,
  actor: ADMIN,
});

describe('the MongoDB room member restorer', () => {
  let connection: Connection;
  let models: Models;
  const clock = new ManualClock();
  let restorer: MongoRoomMemberRestorer;
  let remover: MongoRoomMemberRemover;

  const room = async () => (await models.rooms.collection.findOne({ _id: 'r-big' as never }))!;
  const bobRooms = async () => (await models.users.findById('u-bob').lean())?.__rooms;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testServers().mongo.uri, { dbName: `t_restorer_${randomBytes(4).toString('hex')}` })
      .asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    restorer = new MongoRoomMemberRestorer({ ...models, clock });
    remover = new MongoRoomMemberRemover({ ...models, clock });
  });
  beforeEach(async () => {
    for (const name of ['rooms', 'subscriptions', 'users', 'messages', 'evictionRecords'] as const)
      await models[name].collection.deleteMany({});
    await models.rooms.collection.insertOne({ _id: 'r-big' as never, t: 'p', name: 'big', usersCount: 9 });
    await models.users.create({ _id: 'u-bob', username: 'bob', __rooms: [] });
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('puts the same subscription back, counts it in once, lists the room and says who added the user', async () => {
    expect(await restorer.restore([restoration()])).toHaveLength(1);
    expect(await models.subscriptions.collection.findOne({ _id: 's-bob' as never })).toEqual({
      ...BOB,
      __abacRestored: 'grant-1',
    });
    expect((await room()).usersCount).toBe(10);
    expect(Object.keys(await room()).sort()).toEqual(['_id', '_updatedAt', 'name', 't', 'usersCount']);
    expect(await bobRooms()).toEqual(['r-big']);
    const messages = await models.messages.find().lean();
    expect(messages.map(({ rid, t, msg, u }) => ({ rid, t, msg, u }))).toEqual([
      { rid: 'r-big', t: 'au', msg: 'bob', u: ADMIN },
    ]);
  });

  it('does each step once when run again after a fault at any step, or twice at once', async () => {
    // Cut short after the subscription went back: the next run completes the rest, once.
    await models.subscriptions.collection.insertOne({ ...BOB, __abacRestored: 'grant-1' } as never);
    await restorer.restore([restoration()]);
    await Promise.all([restorer.restore([restoration()]), restorer.restore([restoration()])]);
    expect((await room()).usersCount).toBe(10);
    expect(await models.subscriptions.countDocuments()).toBe(1);
    expect(await models.messages.countDocuments()).toBe(1);
    expect(await bobRooms()).toEqual(['r-big']);
  });

  it('leaves a membership the user holds again through another subscription, and a room gone since', async () => {
    await models.subscriptions.collection.insertOne({
      _id: 's-bob-new',
      rid: 'r-big',
      u: { _id: 'u-bob' },
    } as never);
    const gone = { ...restoration('grant-2'), room: { _id: 'r-gone', name: 'gone' } };
    expect(await restorer.restore([restoration(), gone])).toEqual([]);
    expect((await models.subscriptions.find().lean()).map(({ _id }) => _id)).toEqual(['s-bob-new']);
    expect((await room()).usersCount).toBe(9);
    expect(await models.messages.countDocuments()).toBe(0);
  });

  it('evicts a restored subscription as a new eviction: counted out again, with its own record and message', async () => {
    const end = (subscription: { _id: string; [field: string]: unknown }) =>
      remover.remove([
        {
          user: { _id: 'u-bob', username: 'bob' },
          room: { _id: 'r-big', name: 'big' },
          subscriptionIds: [subscription._id],
          evictionKeys: [evictionKey(subscription)],
        },
      ]);
    await models.subscriptions.collection.insertOne({ ...BOB } as never);
    await models.users.updateOne({ _id: 'u-bob' }, { __rooms: ['r-big'] });
    await end(BOB);
    expect((await room()).usersCount).toBe(8);
    await restorer.restore([restoration()]);
    expect((await room()).usersCount).toBe(9);
    await end({ ...BOB, __abacRestored: 'grant-1' });
    expect((await room()).usersCount).toBe(8);
    expect(await models.subscriptions.countDocuments()).toBe(0);
    expect(await bobRooms()).toEqual([]);
    expect(await models.messages.find().sort({ ts: 1, t: 1 }).distinct('t')).toEqual([
      'abac-removed-user-from-room',
      'au',
    ]);
    expect(await models.messages.countDocuments({ t: 'abac-removed-user-from-room' })).toBe(2);
  });
});
