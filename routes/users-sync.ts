import { once } from 'node:events';
import { Router, type Request, type Response } from 'express';
import type { LoginGate } from '../lib/access/login-gate';
import type { RateLimit } from '../lib/access/rate-limit';
import type { LicensePort } from '../lib/access/license';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger';
import type { Clock } from '../lib/clock';
import type { SyncMetrics } from '../lib/metrics';
import type { BegunSync, UsersSyncService } from '../lib/sync/sync-report';
import type { SyncJobs } from '../lib/jobs/sync-jobs';
import type { FeedStatus } from '../lib/feed/feed-status';
import type { Health } from '../lib/health';
import type { SyncJobActor } from '../lib/jobs/sync-job';
import { usersSyncOpenApiDocument } from './openapi';
import type { PermissionChecker } from '../permissions/permission-checker';
import { adminGate } from './admin-gate';
import { errorHandler } from './error-handler';
import { assignRequestId, requestContext } from './request-context';
import { registerSyncJobRoutes, registerUndoRoute } from './sync-jobs';
import type { SyncUndo } from '../lib/undo/sync-undo';
import { ROUTES, USERS_SYNC_PATH } from './route-specs';
import { serve, WithStatus } from './serve';
import { answerUnknownRoutes } from './unknown-routes';

export { USERS_SYNC_PATH } from './route-specs';

export interface UsersSyncRouterDeps {
  loginGate: LoginGate;
  license: LicensePort;
  permissions: PermissionChecker;
  service: UsersSyncService;
  /** Directory-wide runs; without it the /jobs routes are not served. */
  jobs?: SyncJobs;
  /** Undo; without it (or without `jobs`) the /undo route is not served. */
  undo?: SyncUndo;
  /** The changed-entries feed's status (GET /feed) and the discard of its blocked changes. */
  feedStatus?: () => Promise<FeedStatus>;
  discardFeedBlock?: (by: SyncJobActor) => Promise<FeedStatus>;
  logger: Logger;
  metrics: SyncMetrics;
  bodyLimitBytes: number;
  /** Calls per caller (after authentication); undefined: no limit. */
  callerLimiter?: RateLimit;
  /** Reads per caller, counted apart from syncs; undefined: no limit. */
  readLimiter?: RateLimit;
  /** GET /health, for load balancers (no credentials); without it the route is not served. */
  health?: () => Promise<Health>;
  /** Paces what the gate remembers of recent admissions; the system clock when absent. */
  clock?: Clock;
}

/** A plain Express router serving POST /abac/users/sync; the host chooses the mount point (e.g. /api/v1). */
export function createUsersSyncRouter(deps: UsersSyncRouterDeps): Router {
  const router = Router();
  // First of all, so every answer under the path carries an id: errors raised before any route too.
  router.use(USERS_SYNC_PATH, assignRequestId);
  const documents = new Map<string, object>();
  // Public, like any API description: it says nothing about users, settings or the directory.
  router.get(`${USERS_SYNC_PATH}/openapi.json`, (req: Request, res: Response) => {
    const serverUrl = req.baseUrl || '/';
    if (!documents.has(serverUrl)) documents.set(serverUrl, usersSyncOpenApiDocument(serverUrl));
    res.json(documents.get(serverUrl));
  });
  const gate = adminGate(deps);
  const { admit } = gate;
  const served = { admit, bodyLimitBytes: deps.bodyLimitBytes };
  const { health } = deps;
  if (health)
    serve(router, ROUTES.health, served, async ({ res }) => {
      const report = await health();
      res.setHeader('Cache-Control', 'no-store');
      const body = { success: report.status === 'up', health: report };
      return report.status === 'up' ? body : new WithStatus(503, body);
    });
  serve<typeof ROUTES.sync, BegunSync>(
    router,
    ROUTES.sync,
    served,
    async ({ res, caller, body, begun }) => {
      const context = requestContext(res);
      const { dryRun = false, ...identifiers } = body;
      // `begun` read the same body's identifiers while the gate checked the caller.
      const report = await (begun ?? deps.service.begin(identifiers)).finish({
        dryRun,
        actor: { type: 'user', _id: caller._id, username: caller.username },
        requestId: context.requestId,
        clearOutboxesLater: true,
        // The outboxes are cleared once the answer is out, not while it is being sent.
        answered: once(res, 'close').catch(() => undefined),
      });
      deps.metrics.requestAnswered({
        outcome: dryRun ? 'dry_run' : 'completed',
        seconds: (performance.now() - context.startedAt) / 1000,
      });
      return { success: true, ...report };
    },
    // A caller the gate let in within the last minutes: the sync's reads begin beside the gate's checks.
    (req, body) => {
      if (!gate.recentlyAdmitted(req)) return undefined;
      const { dryRun: _dryRun, ...identifiers } = body;
      return deps.service.begin(identifiers);
    },
  );
  serve(router, ROUTES.me, served, async ({ caller }) => ({
    success: true,
    user: { _id: caller._id, username: caller.username },
  }));
  if (deps.jobs) registerSyncJobRoutes(router, { ...deps, jobs: deps.jobs, admit });
  if (deps.jobs && deps.undo)
    registerUndoRoute(router, { undo: deps.undo, admit, bodyLimitBytes: deps.bodyLimitBytes });
  answerUnknownRoutes(router, USERS_SYNC_PATH);
  router.use(errorHandler(deps.logger, deps.metrics));
  return router;
}
