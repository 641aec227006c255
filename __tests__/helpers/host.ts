import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import { createModels, type Models } from '../../models';
import { createRouter, type AbacLdapSync, type AbacLdapSyncDeps } from '../../app/create-router';
import { hashLoginToken } from '../../lib/access/authenticator';
import { generateLicenseKeys, signLicense, type LicensePayload } from '../../lib/access/license';
import { silentLogger } from '../../lib/logger';
import { testServers } from '../../harness/test-servers';
import { closeTestDatabase, deferredWorkOf, openTestDatabase } from './database';

export const ADMIN_ID = 'admin-user-id';
export const ADMIN_TOKEN = 'admin-login-token';
export const ADMIN_HEADERS = { 'X-User-Id': ADMIN_ID, 'X-Auth-Token': ADMIN_TOKEN };
export const SYNC_URL = '/api/v1/abac/users/sync';
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public current = Date.parse('2026-11-28T12:00:00Z')) {}
  now = () => this.current;
  advance(ms: number) {
    this.current += ms;
  }
}

export const licenseKeys = generateLicenseKeys();

export function makeLicense(overrides: Partial<LicensePayload> = {}, privateKey = licenseKeys.privateKeyPem) {
  return signLicense(
    {
      licensee: 'Example Org',
      modules: ['abac', 'ldap-enterprise'],
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2027-12-31T23:59:59Z',
      ...overrides,
    },
    privateKey,
  );
}

/** Settings that point the module at the test slapd through the least-privilege service account. */
export function ldapSettings(): Record<string, unknown> {
  const { ldap } = testServers();
  const url = new URL(ldap.url);
  return {
    ABAC_Enabled: true,
    LDAP_Enable: true,
    LDAP_Host: url.hostname,
    LDAP_Port: Number(url.port),
    LDAP_Encryption: 'plain',
    LDAP_Authentication: true,
    LDAP_Authentication_UserDN: ldap.serviceDN,
    LDAP_Authentication_Password: ldap.servicePassword,
    LDAP_BaseDN: ldap.baseDN,
    LDAP_User_Search_Field: 'uid',
    LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)',
    LDAP_Timeout: 5000,
    LDAP_ABAC_AttributeMap: JSON.stringify({
      departmentNumber: 'department',
      employeeType: 'employeeType',
      memberOf: 'groups',
    }),
  };
}

/** A user document holding one login token (Rocket.Chat stores base64(sha256(token))), issued at `issuedAt`. */
export function userWithToken(options: {
  _id: string;
  username: string;
  token: string;
  issuedAt: number;
  roles?: string[];
  active?: boolean;
}) {
  return {
    _id: options._id,
    username: options.username,
    active: options.active ?? true,
    roles: options.roles ?? ['admin'],
    services: {
      resume: {
        loginTokens: [{ hashedToken: hashLoginToken(options.token), when: new Date(options.issuedAt) }],
      },
    },
  };
}

/** The admin every test host seeds: ADMIN_ID holding ADMIN_TOKEN. */
export const testAdmin = (issuedAt: number) =>
  userWithToken({ _id: ADMIN_ID, username: 'root', token: ADMIN_TOKEN, issuedAt });

export interface TestHost {
  app: Express;
  connection: Connection;
  models: Models;
  clock: ManualClock;
  sync: AbacLdapSync;
  close(): Promise<void>;
}

export async function setSettings(models: Models, settings: Record<string, unknown>) {
  await models.settings.bulkWrite(
    Object.entries(settings).map(([id, value]) => ({
      updateOne: { filter: { _id: id }, update: { $set: { value } }, upsert: true },
    })),
  );
}

/** A bare Express host with the router mounted at /api/v1, its own database, an admin and LDAP settings. */
export async function startTestHost({
  seedSettings = true,
  monitorCommands = false,
  ...options
}: Partial<AbacLdapSyncDeps> & {
  seedSettings?: boolean;
  monitorCommands?: boolean;
} = {}): Promise<TestHost> {
  const connection = await openTestDatabase({ monitorCommands });
  const models = createModels(connection);
  const clock = new ManualClock();
  await models.roles.insertMany([
    { _id: 'admin', name: 'admin', scope: 'Users', protected: true },
    { _id: 'user', name: 'user', scope: 'Users', protected: true },
    { _id: 'moderator', name: 'moderator', scope: 'Subscriptions', protected: true },
  ]);
  await models.users.create(testAdmin(clock.now()));
  if (seedSettings) await setSettings(models, ldapSettings());
  const sync = await createRouter({
    connection,
    license: { license: makeLicense(), publicKey: licenseKeys.publicKeyPem },
    logger: silentLogger,
    clock,
    // Limits are tested on their own (rate-limit.test.ts); elsewhere they would only count test requests.
    rateLimit: false,
    ...options,
  });
  deferredWorkOf.set(connection, () => sync.idle());
  const app = express();
  app.use('/api/v1', sync.router);
  return {
    app,
    connection,
    models,
    clock,
    sync,
    close: async () => {
      await sync.close();
      await closeTestDatabase(connection);
    },
  };
}

/**
 * Alice (alice in the test directory, which says department eng) stored as a member of the ABAC room
 * "sales" with department sales: her next sync updates her and evicts her from that room.
 */
export async function seedAliceInSalesRoom(models: Models, roomFields: Record<string, unknown> = {}) {
  // Inserted as is (not cast by the model), so a test can store what a host's data may hold.
  await models.rooms.collection.insertOne({
    _id: 'r-sales' as never,
    t: 'p',
    name: 'sales',
    usersCount: 3,
    abacAttributes: [{ key: 'department', values: ['sales'] }],
    ...roomFields,
  });
  await models.subscriptions.create({
    _id: 's-alice',
    rid: 'r-sales',
    u: { _id: 'u-alice', username: 'alice' },
  });
  await models.users.create({
    _id: 'u-alice',
    username: 'alice',
    active: true,
    ldap: true,
    abacAttributes: [{ key: 'department', values: ['sales'] }],
    __rooms: ['r-sales'],
  });
}
