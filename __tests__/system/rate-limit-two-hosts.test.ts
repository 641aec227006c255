import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../harness/test-servers';
import { createModels, ensureIndexes } from '../../models';
import type { RateLimitOptions } from '../../app/create-router';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  licenseKeys,
  makeLicense,
  setSettings,
  testAdmin,
} from '../helpers/host';
import { startHostProcess, type HostProcess } from '../helpers/host-process';

const LIMITS = { syncsPerMinute: 4, failedAuthPerMinute: 3, failedAuthPerAddressPerMinute: 100 };
const WRONG_TOKEN = { 'X-User-Id': 'admin-user-id', 'X-Auth-Token': 'a-wrong-token' };

/** Two host processes on one database, with the same limits counted in the store given. */
async function twoHosts(store: RateLimitOptions['store']) {
  const dbName = `t_rate_two_${store}_${process.pid}_${Date.now() % 100000}`;
  const connection = await mongoose.createConnection(testServers().mongo.uri, { dbName }).asPromise();
  const models = createModels(connection);
  await ensureIndexes(models);
  await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users', protected: true });
  await models.users.create(testAdmin(Date.now()));
  await setSettings(models, ldapSettings());
  const config = {
    mongoUri: testServers().mongo.uri,
    dbName,
    license: makeLicense(),
    publicKey: licenseKeys.publicKeyPem,
    jobRunner: false as const,
    rateLimit: { ...LIMITS, store },
  };
  const hosts = await Promise.all([startHostProcess(config), startHostProcess(config)]);
  return { connection, hosts };
}

/** The statuses of `count` requests sent in turn to each host. */
async function alternate(hosts: HostProcess[], count: number, headers: Record<string, string>) {
  const statuses: number[] = [];
  for (let call = 0; call < count; call += 1) {
    const response = await fetch(`${hosts[call % hosts.length]!.baseUrl}${SYNC_URL}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ usernames: ['nobody-at-all'] }),
    });
    statuses.push(response.status);
    if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  }
  return statuses;
}

describe('rate limits across two host processes', () => {
  let connection: Connection | undefined;
  let hosts: HostProcess[] = [];

  afterEach(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    hosts = [];
    await connection?.dropDatabase();
    await connection?.close();
  });

  it('holds one limit for both when counted in MongoDB (the default store)', async () => {
    ({ connection, hosts } = await twoHosts('mongo'));
    expect(await alternate(hosts, 6, ADMIN_HEADERS)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(await alternate(hosts, 5, WRONG_TOKEN)).toEqual([401, 401, 401, 429, 429]);
  });

  it('counts a burst sent to both hosts at once exactly (one window per key, however many open it)', async () => {
    ({ connection, hosts } = await twoHosts('mongo'));
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, call) => alternate([hosts[call % 2]!], 1, ADMIN_HEADERS)),
    );
    const statuses = burst.flat().sort();
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
  });

  it('lets each host count on its own with the memory store (N hosts allow N times the limit)', async () => {
    ({ connection, hosts } = await twoHosts('memory'));
    expect(await alternate(hosts, 10, ADMIN_HEADERS)).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 429, 429,
    ]);
  });
});
