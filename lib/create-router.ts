import type { KeyObject } from 'node:crypto';
import type { Router } from 'express';
import { ConnectionStates, type Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import { createModels, ensureIndexes } from '../models';
import { MongoPermissionChecker } from '../permissions/permission-checker';
import { createUsersSyncRouter } from '../routes/users-sync';
import { AbacLdapSyncService } from './sync/abac-ldap-sync-service';
import { AuditEvents } from './sync/audit-events';
import { LoginTokenAuthenticator, type Authenticator } from './http/auth';
import { LoginGate } from './http/login-gate';
import { systemClock, type Clock } from './clock';
import type { Directory } from './ldap/directory';
import { LdapjsDirectory } from './ldap/ldapjs-directory';
import { DEFAULT_LDAP_POOL, PooledDirectory, type LdapPoolOptions } from './ldap/pooled-directory';
import { SignedLicense, type LicensePort } from './http/license';
import { createDefaultLogger, type Logger } from './logger';
import { noMetrics, PrometheusSyncMetrics } from './metrics';
import { RateLimiter } from './http/rate-limiter';
import type { RoomMemberRemover } from './sync/room-member-remover';
import { MongoRoomMemberRemover } from '../mongo/room-member-remover';
import { MongoSyncStore } from '../mongo/mongo-sync-store';
import { MongoSettingsSource, type SettingId } from './settings';
import { checkRouterOptions } from './router-options';
import { AgendaRunner, DEFAULT_RUNNER_OPTIONS, type RunnerOptions } from './jobs/agenda-runner';
import { DEFAULT_RUN_OPTIONS, FullSyncRun, type FullSyncRunOptions } from './jobs/full-sync-run';
import { SyncJobs } from './jobs/sync-jobs';
import { MongoSyncJobStore } from '../mongo/mongo-job-store';

export interface SignedLicenseConfig {
  /** `base64url(payload).base64url(signature)`, as made by scripts/make-license.ts. */
  license: string;
  /** PEM of the Ed25519 public key that signed it. */
  publicKey: string | KeyObject;
}

export interface AbacLdapSyncDeps {
  /** The host's mongoose connection (never the global mongoose). */
  connection: Connection;
  /** The host's license port, or a signed license the built-in verifier checks. */
  license: LicensePort | SignedLicenseConfig;
  /** Replaces the built-in X-User-Id / X-Auth-Token check. */
  authenticator?: Authenticator;
  /** Replaces the built-in room member remover. */
  memberRemover?: RoomMemberRemover;
  logger?: Logger;
  /** Values that take precedence over rocketchat_settings. */
  settings?: Partial<Record<SettingId, unknown>>;
  /** How long settings are reused before a re-read (default 5000 ms). */
  settingsCacheTtlMs?: number;
  /** How long permission and role grants are reused (default 5000 ms). */
  permissionsCacheTtlMs?: number;
  /** Largest accepted body (default 64 KiB). */
  bodyLimitBytes?: number;
  clock?: Clock;
  directory?: Directory;
  /** Where the Prometheus metrics go (default: prom-client's default registry); false: none. */
  metricsRegistry?: Registry | false;
  /** Per-process request limits (defaults: 60 syncs a minute per caller, 10 failed logins a minute per address). */
  rateLimit?: Partial<RateLimitOptions> | false;
  /** Bound LDAP connections kept between syncs (default 4 per server, closed after 30 s idle); false: none. */
  ldapPool?: Partial<LdapPoolOptions> | false;
  /**
   * Directory-wide runs: this process takes part in running them and in the schedule (timings and batch
   * sizes may be tuned); false: it only queues runs for other processes.
   */
  jobRunner?: Partial<RunnerOptions & FullSyncRunOptions> | false;
}

export interface RateLimitOptions {
  /** Requests per caller per minute, counted once the caller is authenticated (0: unlimited). */
  syncsPerMinute: number;
  /** Failed logins per client address and named user id per minute, then 429 for that pair (0: unlimited). */
  failedAuthPerMinute: number;
  /**
   * Failed logins per client address per minute, all user ids together, then 429 for that address except for
   * users who logged in from it within the window (0: unlimited).
   */
  failedAuthPerAddressPerMinute: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  syncsPerMinute: 60,
  failedAuthPerMinute: 10,
  failedAuthPerAddressPerMinute: 100,
};

export interface AbacLdapSync {
  /** Serves POST /abac/users/sync; mount it where the host's API lives (e.g. app.use('/api/v1', router)). */
  router: Router;
  /** The sync itself, for hosts that call it from elsewhere (a job, another route). */
  service: AbacLdapSyncService;
  /** Directory-wide runs: start, read, list, cancel (what the /jobs routes and the CLI use). */
  jobs: SyncJobs;
  /** Stops taking part in runs (a run here is left for another process), closes LDAP connections. */
  close(): Promise<void>;
}

/** Wires every part: the one place that knows the concrete classes. */
export async function createRouter(deps: AbacLdapSyncDeps): Promise<AbacLdapSync> {
  checkRouterOptions(deps);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createDefaultLogger();
  const models = createModels(deps.connection);
  const metrics =
    deps.metricsRegistry === false ? noMetrics : new PrometheusSyncMetrics(deps.metricsRegistry);
  const settings = new MongoSettingsSource({
    settings: models.settings,
    clock,
    cacheTtlMs: deps.settingsCacheTtlMs ?? 5000,
    overrides: deps.settings,
  });
  const permissions = new MongoPermissionChecker({
    permissions: models.permissions,
    roles: models.roles,
    clock,
    cacheTtlMs: deps.permissionsCacheTtlMs ?? 5000,
  });
  await ensureIndexes(models, logger);
  await permissions.ensureDefaults();

  const baseDirectory = deps.directory ?? new LdapjsDirectory(logger);
  const pool =
    deps.ldapPool === false
      ? undefined
      : new PooledDirectory(baseDirectory, { ...DEFAULT_LDAP_POOL, ...deps.ldapPool });
  const store = new MongoSyncStore({ models, clock, logger, metrics });
  const service = new AbacLdapSyncService({
    store,
    settings,
    directory: pool ?? baseDirectory,
    memberRemover: deps.memberRemover ?? new MongoRoomMemberRemover({ ...models, clock }),
    audit: new AuditEvents(clock),
    logger,
    metrics,
    clock,
  });
  const jobStore = new MongoSyncJobStore(models);
  const runnerOptions =
    deps.jobRunner === false
      ? undefined
      : { ...DEFAULT_RUNNER_OPTIONS, ...DEFAULT_RUN_OPTIONS, ...deps.jobRunner };
  const run = new FullSyncRun(
    { engine: service, store, jobs: jobStore, clock, logger, metrics },
    runnerOptions,
  );
  const runner = new AgendaRunner(
    {
      db: deps.connection.db!,
      run,
      // Its own reads, uncached: the schedule is read every few seconds anyway, and a read here must not
      // hold the request path's cached snapshot back.
      settings: new MongoSettingsSource({
        settings: models.settings,
        clock,
        cacheTtlMs: 0,
        overrides: deps.settings,
      }),
      logger,
    },
    runnerOptions ?? DEFAULT_RUNNER_OPTIONS,
  );
  const jobs = new SyncJobs({
    jobs: jobStore,
    queue: runner,
    checkSettings: () => service.configuration(),
    clock,
    logger,
  });
  if (runnerOptions) await runner.start(jobs);

  const limits = rateLimiters(deps.rateLimit, clock);
  const loginGate = new LoginGate({
    authenticator:
      deps.authenticator ?? new LoginTokenAuthenticator({ users: models.users, settings, clock }),
    clock,
    failedPerUser: limits.failedPerUser,
    failedPerAddress: limits.failedPerAddress,
    // Mongoose reports the connection down once the driver has seen the server go; until it comes back,
    // answering at once beats every request waiting out the host's server selection timeout.
    databaseReady: () => deps.connection.readyState === ConnectionStates.connected,
  });
  const router = createUsersSyncRouter({
    loginGate,
    license: isLicensePort(deps.license)
      ? deps.license
      : new SignedLicense(deps.license.license, deps.license.publicKey, clock),
    permissions,
    service,
    jobs,
    logger,
    metrics,
    bodyLimitBytes: deps.bodyLimitBytes ?? 64 * 1024,
    callerLimiter: limits.perCaller,
  });
  return {
    router,
    service,
    jobs,
    close: async () => {
      await runner.stop();
      await pool?.close();
    },
  };
}

function rateLimiters(options: Partial<RateLimitOptions> | false | undefined, clock: Clock) {
  if (options === false) return {};
  const limits = { ...DEFAULT_RATE_LIMIT, ...options };
  const perMinute = (limit: number) =>
    limit > 0 ? new RateLimiter({ limit, windowMs: 60_000 }, clock) : undefined;
  return {
    perCaller: perMinute(limits.syncsPerMinute),
    failedPerUser: perMinute(limits.failedAuthPerMinute),
    failedPerAddress: perMinute(limits.failedAuthPerAddressPerMinute),
  };
}

function isLicensePort(license: LicensePort | SignedLicenseConfig): license is LicensePort {
  return typeof (license as LicensePort).hasModules === 'function';
}
