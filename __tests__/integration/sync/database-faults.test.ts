import express from 'express';
import mongoose, { type Connection } from 'mongoose';
import request from 'supertest';
import { EmbeddedMongo } from '../../../harness/embedded-mongo';
import { waitFor } from '../../../harness/wait';
import { createRouter, type AbacLdapSync } from '../../../app/create-router';
import { silentLogger } from '../../../lib/logger';
import { reportFigure } from '../../helpers/figures';
import { createModels, ensureIndexes, type Models } from '../../../models';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  testAdmin,
  SYNC_URL,
  ldapSettings,
  licenseKeys,
  makeLicense,
  setSettings,
} from '../../helpers/host';

/** The admin, roles, permissions, settings and one user whose stored value the directory no longer has. */
async function seed(models: Models) {
  await ensureIndexes(models);
  await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users', protected: true });
  await models.permissions.create([
    { _id: 'abac-management', roles: ['admin'] },
    { _id: 'manage-abac-admin-room-attributes', roles: ['admin'] },
  ]);
  await models.users.create([
    testAdmin(Date.now()),
    {
      _id: 'u-alice',
      username: 'alice',
      active: true,
      ldap: true,
      abacAttributes: [{ key: 'department', values: ['old'] }],
    },
  ]);
  await setSettings(models, ldapSettings());
}

// Always a server of its own, even when MONGODB_URI names one: this test has to kill it.
describe('the MongoDB-wire server stopped and restarted under a running host', () => {
  let mongo: EmbeddedMongo;
  let connection: Connection;
  let models: Models;
  let sync: AbacLdapSync;
  const app = express();
  const post = () =>
    request(app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['alice'] });

  beforeAll(async () => {
    mongo = await EmbeddedMongo.start();
    // The host's connection: it notices a dead server within half a second and gives up selecting after 2 s.
    connection = await mongoose
      .createConnection(mongo.uri, {
        dbName: 'db_faults',
        heartbeatFrequencyMS: 500,
        serverSelectionTimeoutMS: 2000,
      })
      .asPromise();
    models = createModels(connection);
    await seed(models);
    sync = await createRouter({
      connection,
      license: { license: makeLicense(), publicKey: licenseKeys.publicKeyPem },
      logger: silentLogger,
      rateLimit: false,
      settingsCacheTtlMs: 0,
      permissionsCacheTtlMs: 0,
    });
    app.use('/api/v1', sync.router);
  });
  afterAll(async () => {
    await sync?.close();
    await connection?.close();
    await mongo?.stop();
  });

  it('answers 503 error-database-unavailable while it is down and serves again once it is back', async () => {
    expect((await post()).status).toBe(200);
    await models.users.updateOne(
      { _id: 'u-alice' },
      { $set: { abacAttributes: [{ key: 'department', values: ['old'] }] } },
    );

    await mongo.kill();
    const timings: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const started = Date.now();
      const response = await post();
      timings.push(Date.now() - started);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ success: false, error: 'error-database-unavailable' });
      expect(response.headers['retry-after']).toBe('30');
    }
    // Bounded by the host's serverSelectionTimeoutMS (2 s) plus a margin, never by a hanging request.
    expect(Math.max(...timings)).toBeLessThan(4000);

    // Callers it cannot authenticate learn nothing a 401 would not tell them.
    const anonymous = [
      {},
      { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': 'wrong' },
      { 'X-User-Id': 'x', 'X-Auth-Token': 'y' },
    ];
    for (const headers of anonymous) {
      const response = await request(app)
        .post(SYNC_URL)
        .set(headers)
        .send({ usernames: ['alice'] });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        success: false,
        error: 'error-unauthorized',
        message: 'You must be logged in to do this.',
      });
      expect(response.headers['retry-after']).toBeUndefined();
    }

    const restarting = Date.now();
    mongo = await EmbeddedMongo.start(mongo.port);
    await waitFor(() => connection.readyState === 1, 15_000, 'the host connection to reconnect');
    // The in-memory server restarts empty: the host's data is restored, as after a real restore.
    await seed(models);
    const recovered = await post();
    expect(recovered.status).toBe(200);
    expect(recovered.body.summary).toMatchObject({ matched: 1, updated: 1 });
    reportFigure(
      'database down',
      `503 in ${timings.join(', ')} ms; 200 again ${Date.now() - restarting} ms after the restart began`,
    );
  });
});
