import mongoose from 'mongoose';
import request from 'supertest';
import express from 'express';
import { createRouter, type AbacLdapSyncDeps } from '../../../app/create-router';
import type { Logger } from '../../../lib/logger';
import { silentLogger } from '../../../lib/logger';
import { createModels } from '../../../models';
import { closeTestDatabase, openTestDatabase } from '../../helpers/database';
import { recordingLogger } from '../../helpers/recording-logger';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  licenseKeys,
  makeLicense,
  setSettings,
  testAdmin,
} from '../../helpers/host';

describe('createRouter at start', () => {
  let connection: mongoose.Connection;
  const base = (): AbacLdapSyncDeps => ({
    connection,
    license: { license: makeLicense(), publicKey: licenseKeys.publicKeyPem },
    logger: silentLogger,
    metricsRegistry: false,
    rateLimit: false,
  });
  beforeEach(async () => {
    connection = await openTestDatabase();
  });
  afterEach(() => closeTestDatabase(connection));

  it.each([
    ['evictionConcurrency', { evictionConcurrency: 0 }, 'evictionConcurrency: unknown option'],
    ['ldapPool.maxOpen', { ldapPool: { maxOpen: 0 } }, 'ldapPool.maxOpen'],
    ['ldapPool.maxIdle', { ldapPool: { maxIdle: -1 } }, 'ldapPool.maxIdle'],
    ['bodyLimitBytes', { bodyLimitBytes: 1.5 }, 'bodyLimitBytes'],
    ['settingsCacheTtlMs', { settingsCacheTtlMs: '5s' }, 'settingsCacheTtlMs'],
    ['rateLimit.syncsPerMinute', { rateLimit: { syncsPerMinute: -3 } }, 'rateLimit.syncsPerMinute'],
    ['rateLimit (unknown key)', { rateLimit: { perMinute: 3 } }, 'rateLimit'],
    ['settings (unknown id)', { settings: { LDAP_Hots: 'x' } }, 'settings'],
    ['memberRemover', { memberRemover: {} }, 'memberRemover'],
    ['connection', { connection: 'mongodb://localhost' }, 'connection'],
  ])('refuses an invalid %s with a clear error, before writing anything', async (_name, options, named) => {
    const attempt = createRouter({ ...base(), ...(options as object) } as AbacLdapSyncDeps);
    await expect(attempt).rejects.toThrow(/^Invalid createRouter options: /);
    await expect(createRouter({ ...base(), ...(options as object) } as AbacLdapSyncDeps)).rejects.toThrow(
      named,
    );
    const collections = await connection.db!.listCollections().toArray();
    expect(collections).toEqual([]);
  });

  it('says at start that a process without a job runner only queues runs', async () => {
    const { logger, lines } = recordingLogger();
    const sync = await createRouter({ ...base(), logger, jobRunner: false });
    try {
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: expect.stringMatching(/runs it queues wait for a process that runs them/),
        }),
      );
    } finally {
      await sync.close();
    }
  });

  it('starts, logs the index it could not create and syncs correctly when the host data has duplicates', async () => {
    const models = createModels(connection);
    await models.users.collection.insertMany([
      { _id: 'u-1', username: 'dup', active: true } as never,
      { _id: 'u-2', username: 'dup', active: true } as never,
      { _id: 'u-alice', username: 'alice', active: true, ldap: true } as never,
      testAdmin(Date.now()) as never,
    ]);
    await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users', protected: true });
    await setSettings(models, ldapSettings());
    const warnings: Array<{ fields: object; message?: string }> = [];
    const logger: Logger = { ...silentLogger, warn: (fields, message) => warnings.push({ fields, message }) };
    const sync = await createRouter({ ...base(), logger });
    try {
      expect(warnings).toContainEqual({
        fields: expect.objectContaining({
          collection: 'users',
          index: 'username_1',
          reason: expect.stringMatching(/duplicate key/i),
        }),
        message: expect.stringContaining('index not created'),
      });
      const app = express();
      app.use('/api/v1', sync.router);
      const response = await request(app)
        .post(SYNC_URL)
        .set(ADMIN_HEADERS)
        .send({ usernames: ['alice'] });
      expect(response.status).toBe(200);
      expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-alice', status: 'updated' })]);
    } finally {
      await sync.close();
    }
  });
});
