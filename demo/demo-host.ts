import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import mongoose from 'mongoose';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { EmbeddedMongo } from '../harness/embedded-mongo';
import { createRouter, type AbacLdapSyncDeps } from '../app/create-router';
import { generateLicenseKeys, signLicense } from '../lib/access/license';
import type { Logger } from '../lib/logger';
import { createModels, type Models } from '../models';
import { withDatabase, type BannerFacts } from './banner';
import { DemoDirectory } from './demo-directory';
import { parseLdif, type LdifEntry } from './ldif';
import {
  DEMO_ADMIN,
  DEMO_BASE_DN,
  DEMO_SERVICE,
  DEMO_USERNAMES,
  generatedPopulation,
  seedDemoData,
  seedPopulation,
} from './seed';

export interface DemoOptions {
  /** A MongoDB server to use; without one the embedded MongoDB-wire server is started. */
  mongoUri?: string;
  dbName: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  /** Extra generated people (person00000, person00001, …) in the embedded directory and the database. */
  population?: number;
  rateLimit?: AbacLdapSyncDeps['rateLimit'];
}

export interface DemoHost extends BannerFacts {
  stop(): Promise<void>;
}

const SAMPLE_MAP = { departmentNumber: 'department', employeeType: 'employeeType' };
const MANAGED_MARK = 'abac-demo';

/** Starts MongoDB (unless given), the LDAP side, the seeded data and an Express host with the router. */
export async function startDemo(options: DemoOptions): Promise<DemoHost> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    let mongoUri = options.mongoUri;
    let mongoDescription = `MongoDB at MONGODB_URI (database ${options.dbName})`;
    let cli = { cliDatabase: `--db ${options.dbName}`, cliPrefix: 'MONGODB_URI=<your MongoDB URI> ' };
    if (!mongoUri) {
      const embedded = await EmbeddedMongo.start();
      stops.push(() => embedded.stop());
      mongoUri = embedded.uri;
      // Printed with its database, so the CLI given it alone reaches the demo's data.
      const printed = withDatabase(embedded.uri, options.dbName);
      mongoDescription = `embedded MongoDB-wire server, ${printed} (in memory, gone at exit)`;
      cli = { cliDatabase: `--mongo-uri ${printed}`, cliPrefix: '' };
    }
    const connection = await mongoose.createConnection(mongoUri, { dbName: options.dbName }).asPromise();
    stops.push(() => connection.close());
    const models = createModels(connection);

    await seedDemoData(models, new Date());
    const population = generatedPopulation(options.population ?? 0);
    await seedPopulation(
      models,
      population.map((person) => person.username),
    );
    const directory = await configureDirectory(models, stops, population);

    const keys = generateLicenseKeys();
    const license = signLicense(
      {
        licensee: 'ABAC LDAP sync demo',
        modules: ['abac', 'ldap-enterprise'],
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 365 * 24 * 3600_000).toISOString(),
      },
      keys.privateKeyPem,
    );
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const { router, close: closeLdapPool } = await createRouter({
      connection,
      license: { license, publicKey: keys.publicKeyPem },
      logger: options.logger,
      rateLimit: options.rateLimit,
      metricsRegistry: metrics,
      // The demo's printed link signs its admin in with one click; never in a real host.
      adminPage: { signInFromLink: true },
    });
    stops.push(closeLdapPool);
    const app = express();
    app.disable('x-powered-by');
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.metrics());
    });
    app.use('/api/v1', router);
    const server = await listen(app, options.port);
    stops.push(() => closeServer(server));

    const { port } = server.address() as AddressInfo;
    return {
      syncUrl: `http://127.0.0.1:${port}/api/v1/abac/users/sync`,
      adminUrl: `http://127.0.0.1:${port}/api/v1/abac/admin#${new URLSearchParams({ user: DEMO_ADMIN.id, token: DEMO_ADMIN.token }).toString()}`,
      metricsUrl: `http://127.0.0.1:${port}/metrics`,
      headers: { 'X-User-Id': DEMO_ADMIN.id, 'X-Auth-Token': DEMO_ADMIN.token },
      exampleBody: { usernames: [...DEMO_USERNAMES] },
      mongo: mongoDescription,
      ...cli,
      ldap: directory.description,
      ...(directory.embedded ? { directoryUsers: DEMO_USERNAMES.length + population.length } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Keeps an LDAP server the database already names (LDAP_Host set by someone other than the demo);
 * otherwise starts the embedded demo directory and points the settings at it.
 */
async function configureDirectory(
  models: Models,
  stops: Array<() => Promise<unknown>>,
  population: LdifEntry[],
): Promise<{ description: string; embedded: boolean }> {
  const host = await models.settings.findById('LDAP_Host').lean();
  const mark = (host as { managedBy?: string } | null)?.managedBy;
  if (typeof host?.value === 'string' && host.value.trim() !== '' && mark !== MANAGED_MARK) {
    await upsertSettings(models, { ABAC_Enabled: true, LDAP_Enable: true }, false);
    await upsertSettings(models, { LDAP_ABAC_AttributeMap: JSON.stringify(SAMPLE_MAP) }, true);
    return {
      description: `the LDAP server in the database's settings (${host.value}); the example names demo users it may not have`,
      embedded: false,
    };
  }
  const directory = await DemoDirectory.start({
    entries: [...parseLdif(readFileSync(join(__dirname, 'directory.ldif'), 'utf8')), ...population],
    baseDN: DEMO_BASE_DN,
    bindDN: DEMO_SERVICE.dn,
    bindPassword: DEMO_SERVICE.password,
  });
  stops.push(() => directory.close());
  await upsertSettings(
    models,
    {
      ABAC_Enabled: true,
      LDAP_Enable: true,
      LDAP_Host: '127.0.0.1',
      LDAP_Port: directory.port,
      LDAP_Encryption: 'plain',
      LDAP_Authentication: true,
      LDAP_Authentication_UserDN: DEMO_SERVICE.dn,
      LDAP_Authentication_Password: DEMO_SERVICE.password,
      LDAP_BaseDN: DEMO_BASE_DN,
      LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)',
      LDAP_User_Search_Field: 'uid',
      LDAP_Timeout: 5000,
      LDAP_ABAC_AttributeMap: JSON.stringify(SAMPLE_MAP),
    },
    false,
  );
  return {
    description: `embedded demo directory, ldap://127.0.0.1:${directory.port} (${DEMO_BASE_DN}: ${DEMO_USERNAMES.join(', ')})`,
    embedded: true,
  };
}

async function upsertSettings(models: Models, values: Record<string, unknown>, onlyIfMissing: boolean) {
  await models.settings.bulkWrite(
    Object.entries(values).map(([_id, value]) => ({
      updateOne: {
        filter: { _id },
        update: onlyIfMissing
          ? { $setOnInsert: { value, _updatedAt: new Date() } }
          : { $set: { value, managedBy: MANAGED_MARK, _updatedAt: new Date() } },
        upsert: true,
      },
    })),
  );
}

function listen(app: express.Express, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(server),
    );
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
