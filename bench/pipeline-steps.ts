// What each step of a request costs on its own, measured in this process against the benchmark's database:
// the account of "HTTP and pipeline" (every step but the sync's own phases).
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { LoginTokenAuthenticator } from '../mongo/login-token-authenticator';
import {
  generateLicenseKeys,
  REQUIRED_LICENSE_MODULES,
  SignedLicense,
  signLicense,
} from '../lib/access/license';
import { LoginGate } from '../lib/access/login-gate';
import { createDefaultLogger } from '../lib/logger';
import { PrometheusSyncMetrics } from '../lib/metrics';
import { MongoSettingsSource } from '../mongo/mongo-settings-source';
import { syncRequestBodySchema } from '../lib/sync/sync-request';
import { systemClock } from '../lib/clock';
import type { Models } from '../models';
import { MongoRateLimits } from '../mongo/mongo-rate-limit';
import { MongoPermissionChecker, SYNC_PERMISSIONS } from '../permissions/permission-checker';
import { ADMIN } from './data';
import { post } from './host-client';
import { generatedUid } from '../harness/fixtures';

const ITERATIONS = 300;
const USERS = Array.from({ length: 100 }, (_, index) => generatedUid(index));
const BODY = JSON.stringify({ usernames: USERS });

export interface StepCost {
  step: string;
  medianUs: number;
}

/** Median microseconds of each step over ITERATIONS calls (after as many warm-up calls). */
export async function measurePipelineSteps(models: Models): Promise<StepCost[]> {
  const costs: StepCost[] = [];
  const time = async (step: string, work: () => unknown) => {
    for (let call = 0; call < ITERATIONS; call += 1) await work();
    const samples: number[] = [];
    for (let call = 0; call < ITERATIONS; call += 1) {
      const started = performance.now();
      await work();
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    costs.push({ step, medianUs: Math.round(samples[Math.floor(samples.length / 2)]! * 1000) });
  };

  const { empty, parsed, close } = await bareServer();
  try {
    await time('HTTP round trip: node:http and Express, empty answer (client in the same process)', empty);
    await time('the same with the 100-username body read and parsed (express.json)', parsed);
  } finally {
    await close();
  }

  const settings = new MongoSettingsSource({
    settings: models.settings,
    clock: systemClock,
    cacheTtlMs: 5000,
  });
  const authenticator = new LoginTokenAuthenticator({ users: models.users, settings, clock: systemClock });
  const credentials = { userId: ADMIN.id, authToken: ADMIN.token };
  await time('authentication: one users read by _id, token and expiry checked', () =>
    authenticator.authenticate(credentials),
  );
  const gate = new LoginGate({ authenticator, clock: systemClock });
  await time('login gate around it, limits off', () => gate.admit('127.0.0.1', credentials));
  const limits = new MongoRateLimits(models.rateLimits);
  const limit = limits.limit('bench-steps', { limit: 1_000_000_000, windowMs: 60_000 });
  await time('rate limit, MongoDB store: a check (read, alongside authentication)', () => limit.check('k'));
  await time('rate limit, MongoDB store: a count (the one added round trip)', () => limit.take('k'));
  const keys = generateLicenseKeys();
  const license = new SignedLicense(
    signLicense(
      {
        licensee: 'bench',
        modules: ['abac', 'ldap-enterprise'],
        validFrom: '2026-01-01T00:00:00Z',
        validUntil: '2099-01-01T00:00:00Z',
      },
      keys.privateKeyPem,
    ),
    keys.publicKeyPem,
    systemClock,
  );
  await time('license check (signature checked once, validity window per call)', () =>
    license.hasModules(REQUIRED_LICENSE_MODULES),
  );
  const permissionPorts = { permissions: models.permissions, roles: models.roles, clock: systemClock };
  const cached = new MongoPermissionChecker({ ...permissionPorts, cacheTtlMs: 5000 });
  await time('permission check, cached', () => cached.hasAll(['admin'], SYNC_PERMISSIONS));
  const uncached = new MongoPermissionChecker({ ...permissionPorts, cacheTtlMs: 0 });
  await time('permission check, not cached (roles and permissions read)', () =>
    uncached.hasAll(['admin'], SYNC_PERMISSIONS),
  );
  await time('settings, cached', () => settings.current());
  const body = JSON.parse(BODY) as unknown;
  await time('body validation (zod, strict, 100 usernames)', () => syncRequestBodySchema.parse(body));
  await time('request id', () => randomUUID());
  const logger = createDefaultLogger(pino.destination({ dest: '/dev/null', sync: false }));
  const summary = {
    requested: 100,
    matched: 100,
    updated: 100,
    cleared: 0,
    unchanged: 0,
    notFoundInLdap: 0,
    failed: 0,
    roomsRevoked: 0,
  };
  const durationsMs = { settings: 0, mongoReads: 3, ldap: 9, writes: 10, eviction: 0, audit: 5, compute: 2 };
  await time('log line of a finished sync (pino, JSON)', () =>
    logger.info({ requestId: 'r', dryRun: false, ...summary, durationsMs }, 'users sync finished'),
  );
  const metrics = new PrometheusSyncMetrics(new Registry());
  await time('metrics of a finished sync (prom-client)', () => {
    metrics.syncCompleted({ dryRun: false, summary, ldapSearchRoundTrips: 1, durationsMs });
    metrics.requestAnswered({ outcome: 'completed', seconds: 0.05 });
  });
  const report = {
    success: true,
    dryRun: false,
    summary,
    users: USERS.map((username, index) => ({
      _id: `id-${index}`,
      username,
      status: 'updated',
      added: [{ key: 'department', values: ['dept-1'] }],
      removed: [],
    })),
    unmatched: { usernames: [], ids: [], emails: [], ldapIds: [] },
  };
  await time('response JSON (100 users)', () => JSON.stringify(report));
  return costs;
}

/** A bare Express app in this process: one route answering at once, one parsing the body first. */
async function bareServer() {
  const app = express();
  app.post('/empty', (_req, res) => {
    res.json({});
  });
  app.post('/parsed', express.json({ limit: 64 * 1024 }), (_req, res) => {
    res.json({});
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const json = { 'Content-Type': 'application/json' };
  const call = async (path: string, body: string) => {
    await post(port, path, json, body, agent);
  };
  return {
    empty: () => call('/empty', '{}'),
    parsed: () => call('/parsed', BODY),
    close: async () => {
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
