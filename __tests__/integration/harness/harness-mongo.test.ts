import { Schema, type Connection } from 'mongoose';
import { testServers } from '../../../harness/test-servers';
import { closeTestDatabase, openTestDatabase } from '../../helpers/database';

interface Thing {
  _id: string;
  code: string;
}

const thingSchema = new Schema<Thing>({ _id: String, code: { type: String, required: true, unique: true } });

describe('the MongoDB-wire server', () => {
  let first: Connection;
  let second: Connection;

  beforeAll(async () => {
    first = await openTestDatabase();
    second = await openTestDatabase();
  });

  afterAll(async () => {
    await closeTestDatabase(first);
    await closeTestDatabase(second);
  });

  it('is the embedded server unless MONGODB_URI says otherwise', () => {
    const expected = process.env.MONGODB_URI ? /MONGODB_URI/ : /mongo-java-server/;
    expect(testServers().mongo.name).toMatch(expected);
  });

  it('round-trips a document through a model with a unique index, and refuses a duplicate with E11000', async () => {
    const Things = first.model<Thing>('Thing', thingSchema, 'things');
    await Things.init();
    await Things.create({ _id: 't1', code: 'alpha' });
    expect(await Things.findById('t1').lean()).toEqual({ _id: 't1', code: 'alpha', __v: 0 });
    await expect(Things.create({ _id: 't2', code: 'alpha' })).rejects.toMatchObject({ code: 11000 });
  });

  it('gives each opened database its own data', async () => {
    const mine = first.model<Thing>('Thing', thingSchema, 'things');
    const theirs = second.model<Thing>('Thing', thingSchema, 'things');
    await theirs.create({ _id: 'other', code: 'beta' });
    expect(first.name).not.toEqual(second.name);
    expect(await mine.findById('other').lean()).toBeNull();
    expect(await theirs.countDocuments()).toBe(1);
  });

  it('answers a filter on one _id and other fields exactly as MongoDB does (match, no match, projection, update)', async () => {
    const items = first.collection('anchored');
    await items.insertMany([
      { _id: 'a' as never, tags: [{ key: 'k', values: ['1'] }], n: 1 },
      { _id: 'b' as never, n: 2 },
    ]);
    expect(
      await items.findOne(
        { _id: 'a' as never, tags: [{ key: 'k', values: ['1'] }] },
        { projection: { n: 1 } },
      ),
    ).toEqual({
      _id: 'a',
      n: 1,
    });
    expect(await items.findOne({ _id: 'a' as never, tags: [{ key: 'k', values: ['2'] }] })).toBeNull();
    expect(await items.countDocuments({ _id: 'b' as never, tags: { $exists: false } })).toBe(1);
    const result = await items.bulkWrite([
      { updateOne: { filter: { _id: 'a' as never, n: 1 }, update: { $set: { n: 10 } } } },
      { updateOne: { filter: { _id: 'b' as never, n: 1 }, update: { $set: { n: 20 } } } },
    ]);
    expect(result.matchedCount).toBe(1);
    expect(await items.find().sort({ _id: 1 }).project({ n: 1 }).toArray()).toEqual([
      { _id: 'a', n: 10 },
      { _id: 'b', n: 2 },
    ]);
  });

  it('returns each findOneAndUpdate the document as its own update left it, however many run at once', async () => {
    // MongoDB's findAndModify is atomic: ten concurrent increments see 1 to 10, each exactly once (the
    // shared rate-limit store reads its count from that answer).
    const counters = first.collection('counters');
    for (let round = 0; round < 30; round += 1) {
      await counters.insertOne({ _id: `c${round}` as never, n: 0 });
      const seen = await Promise.all(
        Array.from({ length: 10 }, () =>
          counters.findOneAndUpdate(
            { _id: `c${round}` as never },
            { $inc: { n: 1 } },
            { returnDocument: 'after' },
          ),
        ),
      );
      expect(seen.map((document) => document?.n as number).sort((a, b) => a - b)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
    }
  });

  it('answers a key inside an array of subdocuments from a sparse unique index as MongoDB does', async () => {
    const people = first.collection('sparse_emails');
    await people.createIndex({ 'emails.address': 1 }, { unique: true, sparse: true });
    await people.insertMany([
      { _id: 'a' as never, emails: [{ address: 'a@x.org', verified: true }] },
      { _id: 'b' as never, emails: [{ address: 'b@x.org' }, { address: 'b2@x.org' }] },
      // Left out of a sparse index, so neither collides with the other on a missing key.
      { _id: 'c' as never },
      { _id: 'd' as never, emails: [] },
    ]);
    const ids = async (filter: object) =>
      (await people.find(filter as never, { projection: { _id: 1 } }).toArray()).map(({ _id }) => _id).sort();
    expect(await ids({ 'emails.address': 'b2@x.org' })).toEqual(['b']);
    expect(await ids({ 'emails.address': { $in: ['a@x.org', 'b2@x.org', 'none@x.org'] } })).toEqual([
      'a',
      'b',
    ]);
    expect(await ids({ 'emails.address': /^B@X\.ORG$/i })).toEqual(['b']);
    expect(await people.countDocuments()).toBe(4);
    await expect(
      people.insertOne({ _id: 'e' as never, emails: [{ address: 'a@x.org' }] }),
    ).rejects.toMatchObject({
      code: 11000,
    });
    await people.updateOne({ _id: 'b' as never }, { $set: { emails: [{ address: 'b3@x.org' }] } });
    expect(await ids({ 'emails.address': { $in: ['b@x.org', 'b2@x.org'] } })).toEqual([]);
    expect(await ids({ 'emails.address': 'b3@x.org' })).toEqual(['b']);
    await people.deleteOne({ _id: 'a' as never });
    await people.insertOne({ _id: 'f' as never, emails: [{ address: 'a@x.org' }] });
    expect(await ids({ 'emails.address': 'a@x.org' })).toEqual(['f']);
  });
});
