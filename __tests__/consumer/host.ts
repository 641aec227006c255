// The consumer test's host, compiled and run inside a temporary project that installed the packed tarball:
// everything comes from the package name, as a chat server maintainer would write it.
import express from 'express';
import mongoose from 'mongoose';
import { Registry } from 'prom-client';
import {
  createRouter,
  hashLoginToken,
  USERS_SYNC_PATH,
  type AbacLdapSyncDeps,
  type SyncResponse,
} from 'abac-ldap-sync';

interface Config {
  mongoUri: string;
  dbName: string;
  license: string;
  publicKey: string;
  settings: Record<string, unknown>;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.CONSUMER_CONFIG ?? '{}') as Config;
  const connection = await mongoose.createConnection(config.mongoUri, { dbName: config.dbName }).asPromise();
  const db = connection.db!;
  await db.collection('rocketchat_roles').insertOne({ _id: 'admin', name: 'admin', scope: 'Users' } as never);
  await db.collection('users').insertMany([
    {
      _id: 'host-admin',
      username: 'root',
      active: true,
      roles: ['admin'],
      services: {
        resume: { loginTokens: [{ hashedToken: hashLoginToken('host-token'), when: new Date() }] },
      },
    },
    { _id: 'u-alice', username: 'alice', active: true, ldap: true },
  ] as never[]);
  await db
    .collection('rocketchat_settings')
    .insertMany(Object.entries(config.settings).map(([_id, value]) => ({ _id, value })) as never[]);

  const deps: AbacLdapSyncDeps = {
    connection,
    license: { license: config.license, publicKey: config.publicKey },
    metricsRegistry: new Registry(),
  };
  const { router, close } = await createRouter(deps);
  const app = express();
  app.use('/api/v1', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  const base = `http://127.0.0.1:${port}/api/v1${USERS_SYNC_PATH}`;

  const response = await fetch(base, {
    method: 'POST',
    headers: { 'X-User-Id': 'host-admin', 'X-Auth-Token': 'host-token', 'Content-Type': 'application/json' },
    body: JSON.stringify({ usernames: ['alice'] }),
  });
  const report = (await response.json()) as SyncResponse;
  // A directory-wide run: its map is read in a worker thread, loaded from the package's compiled files.
  const started = (await (
    await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: {
        'X-User-Id': 'host-admin',
        'X-Auth-Token': 'host-token',
        'Content-Type': 'application/json',
      },
      body: '{}',
    })
  ).json()) as { job: { _id: string } };
  let runState = 'queued';
  for (let waited = 0; (runState === 'queued' || runState === 'running') && waited < 60_000; waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const read = (await (
      await fetch(`${base}/jobs/${started.job._id}`, {
        headers: { 'X-User-Id': 'host-admin', 'X-Auth-Token': 'host-token' },
      })
    ).json()) as { job: { state: string } };
    runState = read.job.state;
  }
  const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string };
  const alice = await db.collection('users').findOne({ _id: 'u-alice' as never });
  const packagedDocument = require('abac-ldap-sync/openapi.json') as { openapi: string };

  process.stdout.write(
    `${JSON.stringify({
      status: response.status,
      summary: report.summary,
      stored: alice?.abacAttributes,
      runState,
      servedOpenApi: openapi.openapi,
      packagedOpenApi: packagedDocument.openapi,
    })}\n`,
  );
  server.close();
  await close();
  await connection.dropDatabase();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`consumer host failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
