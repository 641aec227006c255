// The benchmark's data: a private slapd with generated people and the matching users in a database of their
// own, the admin who calls, and the settings that point a host at that slapd.
import mongoose, { type Connection } from 'mongoose';
import { generatePeopleLdif, standardDirectory } from '../harness/fixtures';
import { Slapd } from '../harness/slapd';
import { createModels, ensureIndexes, type Models } from '../models';
import { seedAdminAndSettings, seedUsers } from './data';

export interface BenchData {
  slapd: Slapd;
  connection: Connection;
  models: Models;
  /** The settings written to the database (the LDAP ones point at `slapd`). */
  settings: Record<string, unknown>;
  /** Drops the database, closes the connection, stops slapd. */
  close(): Promise<void>;
}

export async function seedBenchData(
  mongoUri: string,
  dbName: string,
  size: number,
  log: (message: string) => void,
): Promise<BenchData> {
  log(`Starting slapd with ${size.toLocaleString('en')} generated people...`);
  const slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: size })] });
  const connection = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
  const close = async () => {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await slapd.stop();
  };
  try {
    const models = createModels(connection);
    await ensureIndexes(models);
    log(`Seeding ${size.toLocaleString('en')} users...`);
    await seedUsers(models, size);
    const settings = await seedAdminAndSettings(models, slapd);
    return { slapd, connection, models, settings, close };
  } catch (error) {
    await close();
    throw error;
  }
}
