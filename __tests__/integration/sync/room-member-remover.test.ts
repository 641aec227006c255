import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../../harness/test-servers';
import { createModels, ensureIndexes, type Models } from '../../../models';
import { MongoRoomMemberRemover } from '../../../mongo/room-member-remover';
import { ManualClock } from '../../helpers/host';

// The MongoDB room member remover on the MongoDB-wire server (no transactions): each subscription it ends
// is counted out of the room's usersCount exactly once, whatever step a fault cut an earlier run short at,
// and the record of it lives in its own collection, never in the room document.

const DAY_MS = 24 * 60 * 60 * 1000;
const removal = (index: number) => ({
  user: { _id: `u-${index}`, username: `user${index}` },
  room: { _id: 'r-big', name: 'big' },
  subscriptionIds: [`s-${index}`],
  evictionKeys: [`s-${index}`],
});

describe('the MongoDB room member remover', () => {
  let connection: Connection;
  let models: Models;
  const clock = new ManualClock();
  let remover: MongoRoomMemberRemover;

  const room = async () => (await models.rooms.collection.findOne({ _id: 'r-big' as never }))!;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testServers().mongo.uri, { dbName: `t_remover_${randomBytes(4).toString('hex')}` })
      .asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    remover = new MongoRoomMemberRemover({ ...models, clock });
  });
  beforeEach(async () => {
    for (const name of ['rooms', 'subscriptions', 'users', 'messages', 'evictionRecords'] as const)
      await models[name].collection.deleteMany({});
    await models.rooms.collection.insertOne({ _id: 'r-big' as never, t: 'p', name: 'big', usersCount: 10 });
    await models.users.insertMany(
      Array.from({ length: 10 }, (_, index) => ({
        _id: `u-${index}`,
        username: `user${index}`,
        __rooms: ['r-big'],
      })),
    );
    await models.subscriptions.insertMany(
      Array.from({ length: 10 }, (_, index) => ({
        _id: `s-${index}`,
        rid: 'r-big',
        u: { _id: `u-${index}` },
      })),
    );
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('records each eviction in abac_sync_evictions, leaving nothing of it in the room document', async () => {
    const ended = await remover.remove([removal(0), removal(1)]);
    expect(ended).toHaveLength(2);
    const after = await room();
    expect(after.usersCount).toBe(8);
    expect(Object.keys(after).sort()).toEqual(['_id', '_updatedAt', 'name', 't', 'usersCount']);
    const records = await models.evictionRecords.find({}).sort({ _id: 1 }).lean();
    expect(records.map(({ _id, rid, s, counted }) => ({ _id, rid, s, counted }))).toEqual([
      { _id: 'r-big:s-0', rid: 'r-big', s: 's-0', counted: true },
      { _id: 'r-big:s-1', rid: 'r-big', s: 's-1', counted: true },
    ]);
    expect(await models.subscriptions.countDocuments({ _id: { $in: ['s-0', 's-1'] } })).toBe(0);
    expect(await models.messages.countDocuments({ rid: 'r-big' })).toBe(2);
  });

  it('counts a subscription out once when run again after a fault at any step', async () => {
    // Decremented, but the record not yet marked: the room names the eviction it is counting.
    await models.evictionRecords.create({
      _id: 'r-big:s-0',
      rid: 'r-big',
      s: 's-0',
      at: new Date(clock.now()),
      counted: false,
    });
    await models.rooms.collection.updateOne(
      { _id: 'r-big' as never },
      { $inc: { usersCount: -1 }, $push: { __abacCounting: 'r-big:s-0' } as never },
    );
    // Decremented and marked, the room's mark not yet pulled.
    await models.evictionRecords.create({
      _id: 'r-big:s-1',
      rid: 'r-big',
      s: 's-1',
      at: new Date(clock.now()),
      counted: true,
    });
    await models.rooms.collection.updateOne(
      { _id: 'r-big' as never },
      { $inc: { usersCount: -1 }, $push: { __abacCounting: 'r-big:s-1' } as never },
    );
    // Recorded, not yet decremented.
    await models.evictionRecords.create({
      _id: 'r-big:s-2',
      rid: 'r-big',
      s: 's-2',
      at: new Date(clock.now()),
      counted: false,
    });
    // Counted out by a version that kept the records in the room document.
    await models.rooms.collection.updateOne(
      { _id: 'r-big' as never },
      {
        $inc: { usersCount: -1 },
        $push: { __abacEvictions: { s: 's-3', at: new Date(clock.now()) } } as never,
      },
    );
    expect((await room()).usersCount).toBe(7);

    await remover.remove([0, 1, 2, 3].map(removal));
    // s-2 is the only one not counted yet.
    expect((await room()).usersCount).toBe(6);
    expect((await room()).__abacCounting ?? []).toEqual([]);
    await remover.remove([0, 1, 2, 3].map(removal));
    expect((await room()).usersCount).toBe(6);
    expect(await models.evictionRecords.countDocuments({ counted: true })).toBe(4);
  });

  it('counts a subscription out once when two syncs complete the same eviction at once', async () => {
    await Promise.all([0, 1, 2, 3].map(() => remover.remove([removal(0), removal(1)])));
    expect((await room()).usersCount).toBe(8);
    expect((await room()).__abacCounting ?? []).toEqual([]);
  });

  it('keeps a room document the same size however many it evicts, and sweeps records older than a day', async () => {
    for (let index = 0; index < 10; index += 1) await remover.remove([removal(index)]);
    expect((await room()).usersCount).toBe(0);
    expect(Object.keys(await room()).sort()).toEqual(['_id', '_updatedAt', 'name', 't', 'usersCount']);
    expect(await models.evictionRecords.countDocuments()).toBe(10);
    clock.advance(DAY_MS + 60_000);
    await models.users.create({ _id: 'u-late', username: 'late', __rooms: ['r-big'] });
    await models.subscriptions.create({ _id: 's-late', rid: 'r-big', u: { _id: 'u-late' } });
    await remover.remove([
      {
        ...removal(0),
        user: { _id: 'u-late', username: 'late' },
        subscriptionIds: ['s-late'],
        evictionKeys: ['s-late'],
      },
    ]);
    expect((await models.evictionRecords.find({}).lean()).map(({ _id }) => _id)).toEqual(['r-big:s-late']);
  });
});
