import type { KeyObject } from 'node:crypto';
import type { Router } from 'express';
import { ConnectionStates } from 'mongoose';
import { MongoPermissionChecker } from '../permissions/permission-checker';
import { createUsersSyncRouter } from '../routes/users-sync';
import type { AbacLdapSyncService } from '../lib/sync/abac-ldap-sync-service';
import type { Authenticator } from '../lib/access/authenticator';
import { LoginTokenAuthenticator } from '../mongo/login-token-authenticator';
import { LoginGate } from '../lib/access/login-gate';
import { SignedLicense, type LicensePort } from '../lib/access/license';
import { memoryRateLimit } from '../lib/access/rate-limit';
import { MongoRateLimits } from '../mongo/mongo-rate-limit';
import type { Models } from '../models';
import { checkRouterOptions } from './router-options';
import { registerAdminPage } from '../routes/admin-page';
import type { SyncJobs } from '../lib/jobs/sync-jobs';
import { createSyncCore, type SyncCoreDeps } from './create-sync-core';

export interface SignedLicenseConfig {
  /** `base64url(payload).base64url(signature)`, as made by scripts/make-license.ts. */
  license: string;
  /** PEM of the Ed25519 public key that signed it. */
  publicKey: string | KeyObject;
}

export interface AbacLdapSyncDeps extends SyncCoreDeps {
  /** The host's license port, or a signed license the built-in verifier checks. */
  license: LicensePort | SignedLicenseConfig;
  /** Replaces the built-in X-User-Id / X-Auth-Token check. */
  authenticator?: Authenticator;
  /** How long permission and role grants are reused (default 5000 ms). */
  permissionsCacheTtlMs?: number;
  /** Largest accepted body (default 64 KiB). */
  bodyLimitBytes?: number;
  /** Request limits (defaults: 60 syncs a minute per caller, 10 failed logins a minute per address and user id, counted in MongoDB). */
  rateLimit?: Partial<RateLimitOptions> | false;
  /**
   * The admin page at <mount>/abac/admin (default: served). `signInFromLink` lets a link carry the user id
   * and token in its fragment: for a demo only.
   */
  adminPage?: boolean | { signInFromLink: boolean };
}

export interface RateLimitOptions {
  /**
   * Syncs, run starts and plan applies per caller per minute, counted once the caller is authenticated
   * (0: unlimited).
   */
  syncsPerMinute: number;
  /**
   * Reads (runs, plans, the feed's status) per caller per minute, counted apart from the syncs, so
   * following a run never uses up the syncs' limit (0: unlimited). Cancelling a run and discarding the
   * feed's blocked changes are never limited.
   */
  readsPerMinute: number;
  /** Failed logins per client address and named user id per minute, then 429 for that pair (0: unlimited). */
  failedAuthPerMinute: number;
  /**
   * Failed logins per client address per minute, all user ids together, then 429 for that address except for
   * users who logged in from it within the window (0: unlimited).
   */
  failedAuthPerAddressPerMinute: number;
  /**
   * Where requests are counted: `mongo` (default), one collection every host process shares, so the
   * limits hold across processes; `memory`, each process on its own (N processes allow N times the limit).
   */
  store: 'mongo' | 'memory';
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  syncsPerMinute: 60,
  readsPerMinute: 600,
  failedAuthPerMinute: 10,
  failedAuthPerAddressPerMinute: 100,
  store: 'mongo',
};

export interface AbacLdapSync {
  /** Serves POST /abac/users/sync; mount it where the host's API lives (e.g. app.use('/api/v1', router)). */
  router: Router;
  /** The sync itself, for hosts that call it from elsewhere (a job, another route). */
  service: AbacLdapSyncService;
  /** Directory-wide runs: start, read, list, cancel (what the /jobs routes and the CLI use). */
  jobs: SyncJobs;
  /**
   * Resolves when the work that follows answers already sent is done: a sync answers once its audit events
   * are stored, and removes them from the users' outboxes right after.
   */
  idle(): Promise<void>;
  /**
   * Stops taking part in runs (a run here is left for another process), finishes the work that follows
   * answers already sent, closes LDAP connections.
   */
  close(): Promise<void>;
}

/** Wires the HTTP side (gates, routes) onto the sync core. */
export async function createRouter(deps: AbacLdapSyncDeps): Promise<AbacLdapSync> {
  checkRouterOptions(deps);
  const core = await createSyncCore(deps);
  // A host whose every process says this has runs that stay queued: said once, where its operators look.
  if (deps.jobRunner === false)
    core.logger.warn(
      { jobRunner: false },
      'this process takes no part in directory-wide runs or the feed: runs it queues wait for a process that runs them',
    );
  const { clock, models, settings, service, jobs, undo, logger, metrics, feedStatus, discardFeedBlock } =
    core;
  const permissions = new MongoPermissionChecker({
    permissions: models.permissions,
    roles: models.roles,
    clock,
    cacheTtlMs: deps.permissionsCacheTtlMs ?? 5000,
  });
  await permissions.ensureDefaults();

  const limits = rateLimiters(deps.rateLimit, models);
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
    undo,
    feedStatus,
    discardFeedBlock,
    logger,
    metrics,
    bodyLimitBytes: deps.bodyLimitBytes ?? 64 * 1024,
    callerLimiter: limits.perCaller,
    readLimiter: limits.readsPerCaller,
    health: () => core.health.report(),
    clock,
  });
  if (deps.adminPage !== false)
    registerAdminPage(router, typeof deps.adminPage === 'object' ? deps.adminPage : {});
  return { router, service, jobs, idle: () => core.idle(), close: () => core.close() };
}

function rateLimiters(options: Partial<RateLimitOptions> | false | undefined, models: Models) {
  if (options === false) return {};
  const { store, ...limits } = { ...DEFAULT_RATE_LIMIT, ...options };
  const shared = store === 'mongo' ? new MongoRateLimits(models.rateLimits) : undefined;
  const perMinute = (name: string, limit: number) => {
    if (limit <= 0) return undefined;
    const window = { limit, windowMs: 60_000 };
    return shared ? shared.limit(name, window) : memoryRateLimit(window);
  };
  return {
    perCaller: perMinute('syncs-per-caller', limits.syncsPerMinute),
    readsPerCaller: perMinute('reads-per-caller', limits.readsPerMinute),
    failedPerUser: perMinute('failed-logins-per-user', limits.failedAuthPerMinute),
    failedPerAddress: perMinute('failed-logins-per-address', limits.failedAuthPerAddressPerMinute),
  };
}

function isLicensePort(license: LicensePort | SignedLicenseConfig): license is LicensePort {
  return typeof (license as LicensePort).hasModules === 'function';
}
