import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../harness/test-servers';

/**
 * A connection to a database of this test file's own (name from the file and a random suffix), dropped by
 * closeTestDatabase, so test files running in parallel never see each other's data.
 */
export async function openTestDatabase({ monitorCommands = false } = {}): Promise<Connection> {
  const testPath = expect.getState().testPath ?? 'unknown';
  const stem = basename(testPath)
    .replace(/\.test\.ts$/, '')
    .replace(/[^A-Za-z0-9]/g, '_')
    .slice(0, 30);
  const dbName = `t_${stem}_${randomBytes(4).toString('hex')}`;
  return mongoose
    .createConnection(testServers().mongo.uri, { dbName, serverSelectionTimeoutMS: 5000, monitorCommands })
    .asPromise();
}

export async function closeTestDatabase(connection: Connection): Promise<void> {
  await connection.dropDatabase();
  await connection.close();
}

/** The collections of directory-wide runs' own bookkeeping (jobs, staging, the queue). */
export const RUN_COLLECTIONS = [
  'abac_sync_jobs',
  'abac_sync_staged_changes',
  'abac_sync_agenda_jobs',
  'abac_sync_revocations',
];

/**
 * Per test database, how to wait for the work its host defers past the answers it sent (the audit
 * outboxes' clearing): registered by the test host.
 */
export const deferredWorkOf = new WeakMap<Connection, () => Promise<void>>();

/**
 * Every document of every collection (but `except`), in a canonical text form, to prove that nothing was
 * written. The host's deferred work is finished first: the snapshot is the state the database settles to,
 * not a moment inside the last answer's tail.
 */
export async function snapshotDatabase(
  connection: Connection,
  { except = [] }: { except?: string[] } = {},
): Promise<string> {
  const db = connection.db;
  if (!db) throw new Error('the connection is not open');
  await deferredWorkOf.get(connection)?.();
  const names = (await db.listCollections({}, { nameOnly: true }).toArray())
    .map(({ name }) => name)
    .filter((name) => !except.includes(name))
    .sort();
  const collections: Record<string, unknown[]> = {};
  for (const name of names) collections[name] = await db.collection(name).find().sort({ _id: 1 }).toArray();
  return mongoose.mongo.BSON.EJSON.stringify(collections, { relaxed: false });
}
