import mongoose from 'mongoose';
import { EmbeddedMongo } from '/work/main/harness/embedded-mongo';
(async () => {
  const m = await EmbeddedMongo.start();
  const c = await mongoose.createConnection(m.uri, { dbName: 'p' }).asPromise();
  const db = c.db!;
  try { const h = await db.command({ hello: 1 }); console.log('hello', h.localTime); } catch (e) { console.log('hello err', String(e)); }
  try { const h = await db.command({ isMaster: 1 }); console.log('isMaster', h.localTime); } catch (e) { console.log('ismaster err', String(e)); }
  try { const r = await db.collection('clk').findOneAndUpdate({ _id: 'now' as any }, { $currentDate: { at: true } }, { upsert: true, returnDocument: 'after' }); console.log('currentDate', r); } catch (e) { console.log('cd err', String(e)); }
  const users = db.collection('u');
  await users.insertMany([{ _id: 'a' as any, username: 'x', attrs: [{ key: 'k', values: ['1'] }] }, { _id: 'b' as any, username: 'x' }]);
  try { await users.createIndex({ username: 1 }, { unique: true }); console.log('unique index created despite dup'); } catch (e: any) { console.log('idx err', e.code, e.codeName, e.message); }
  const r1 = await users.updateOne({ _id: 'a' as any, attrs: [{ key: 'k', values: ['1'] }] }, { $set: { attrs: [{ key: 'k', values: ['2'] }] } });
  console.log('array eq match', r1.matchedCount);
  const r2 = await users.updateOne({ _id: 'b' as any, attrs: { $exists: false } }, { $set: { z: 1 } });
  console.log('exists false', r2.matchedCount);
  const rooms = db.collection('r');
  await rooms.insertOne({ _id: 'r' as any, usersCount: 3 });
  for (let i = 0; i < 2; i++) { const r = await rooms.updateOne({ _id: 'r' as any, marks: { $ne: 'e1' } }, { $inc: { usersCount: -1 }, $push: { marks: 'e1' } as any }); console.log('marker', r.modifiedCount); }
  console.log(await rooms.findOne({ _id: 'r' as any }));
  try { const r = await db.collection('x').bulkWrite([{ updateOne: { filter: { _id: 'q', owner: 'o1' } as any, update: { $currentDate: { at: true } }, upsert: true } }]); console.log('upsert ok', r.upsertedCount);
    const r3 = await db.collection('x').bulkWrite([{ updateOne: { filter: { _id: 'q', owner: 'o2' } as any, update: { $currentDate: { at: true } }, upsert: true } }], { ordered: false }); console.log('upsert2', r3); } catch (e: any) { console.log('upsert dup', e.code, e.writeErrors?.map((w: any) => [w.index, w.code])); }
  try { const r = await db.collection('x').find({ $expr: { $lt: ['$at', '$$NOW'] } }).toArray(); console.log('expr now', r.length); } catch (e: any) { console.log('expr err', e.message); }
  await c.close(); await m.stop?.(); process.exit(0);
})();
