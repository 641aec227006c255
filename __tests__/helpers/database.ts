import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../harness/test-servers';

/**
 * A connection to a database of this test file's own (name from the file and a random suffix), dropped by
 * closeTestDatabase, so test files running in parallel never see each other's data.
 */
export async function openTestDatabase(): Promise<Connection> {
  const testPath = expect.getState().testPath ?? 'unknown';
  const stem = basename(testPath)
    .replace(/\.test\.ts$/, '')
    .replace(/[^A-Za-z0-9]/g, '_')
    .slice(0, 30);
  const dbName = `t_${stem}_${randomBytes(4).toString('hex')}`;
  return mongoose
    .createConnection(testServers().mongo.uri, { dbName, serverSelectionTimeoutMS: 5000 })
    .asPromise();
}

export async function closeTestDatabase(connection: Connection): Promise<void> {
  await connection.dropDatabase();
  await connection.close();
}
