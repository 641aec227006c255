import mongoose from 'mongoose';
import { EmbeddedMongo } from '../harness/embedded-mongo';
(async () => {
  const m = await EmbeddedMongo.start();
  const c = await mongoose.createConnection(m.uri, { dbName: 'p' }).asPromise();
  const x = c.db!.collection('x');
  await x.insertMany([{ _id: 'old' as any, claimedAt: new Date(Date.now() - 60000) }, { _id: 'new' as any, claimedAt: new Date() }]);
  const r = await x.deleteMany({ _id: { $in: ['old', 'new'] } as any, $expr: { $lt: ['$claimedAt', { $subtract: ['$$NOW', 30000] }] } });
  console.log('deleted', r.deletedCount, await x.find().toArray());
  const y = await x.updateMany({ _id: { $in: ['new'] } as any }, { $currentDate: { beat: true } }); console.log('beat', y.modifiedCount, await x.find().toArray());
  await c.close(); await m.stop(); process.exit(0);
})();
