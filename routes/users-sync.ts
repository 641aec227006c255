import express, { Router, type NextFunction, type Request, type Response } from 'express';
import {
  EnterpriseLicenseRequiredError,
  InvalidBodyError,
  NotAuthorizedError,
  PayloadTooLargeError,
} from '../lib/errors';
import type { LoginGate } from '../lib/http/login-gate';
import { refuseOverLimit, type RateLimiter } from '../lib/http/rate-limiter';
import { REQUIRED_LICENSE_MODULES, type LicensePort } from '../lib/http/license';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger';
import type { SyncMetrics } from '../lib/metrics';
import type { UsersSyncService } from '../lib/sync/sync-report';
import { usersSyncOpenApiDocument } from '../lib/http/openapi';
import { parseSyncRequestBody } from '../lib/sync/sync-request';
import { SYNC_PERMISSIONS, type PermissionChecker } from '../permissions/permission-checker';
import { errorHandler } from './error-handler';
import { assignRequestId, requestContext } from './request-context';

export const USERS_SYNC_PATH = '/abac/users/sync';

export interface UsersSyncRouterDeps {
  loginGate: LoginGate;
  license: LicensePort;
  permissions: PermissionChecker;
  service: UsersSyncService;
  logger: Logger;
  metrics: SyncMetrics;
  bodyLimitBytes: number;
  /** Syncs per caller (after authentication); undefined: no limit. */
  callerLimiter?: RateLimiter;
}

/** A plain Express router serving POST /abac/users/sync; the host chooses the mount point (e.g. /api/v1). */
export function createUsersSyncRouter(deps: UsersSyncRouterDeps): Router {
  const router = Router();
  const documents = new Map<string, object>();
  // Public, like any API description: it says nothing about users, settings or the directory.
  router.get(`${USERS_SYNC_PATH}/openapi.json`, (req: Request, res: Response) => {
    const serverUrl = req.baseUrl || '/';
    if (!documents.has(serverUrl)) documents.set(serverUrl, usersSyncOpenApiDocument(serverUrl));
    res.json(documents.get(serverUrl));
  });
  const parseJson = express.json({ limit: deps.bodyLimitBytes, strict: true, type: () => true });

  router.post(
    USERS_SYNC_PATH,
    assignRequestId,
    (req: Request, res: Response, next: NextFunction) => {
      parseJson(req, res, (error?: unknown) => {
        if (error) requestContext(res).bodyError = error;
        next();
      });
    },
    async (req: Request, res: Response) => {
      const context = requestContext(res);
      // req.ip, so the host's `trust proxy` applies.
      const caller = await deps.loginGate.admit(req.ip ?? 'unknown', {
        userId: req.get('x-user-id'),
        authToken: req.get('x-auth-token'),
      });
      refuseOverLimit(deps.callerLimiter?.take(caller._id));
      if (!(await deps.license.hasModules(REQUIRED_LICENSE_MODULES)))
        throw new EnterpriseLicenseRequiredError();
      if (!(await deps.permissions.hasAll(caller.roles, SYNC_PERMISSIONS))) throw new NotAuthorizedError();

      const body = validBody(req, context.bodyError, deps.bodyLimitBytes);
      const { dryRun = false, ...identifiers } = body;
      const report = await deps.service.sync({
        identifiers,
        dryRun,
        actor: { type: 'user', _id: caller._id, username: caller.username },
        requestId: context.requestId,
      });
      res.status(200).json({ success: true, ...report });
      deps.metrics.requestAnswered({
        outcome: dryRun ? 'dry_run' : 'completed',
        seconds: (performance.now() - context.startedAt) / 1000,
      });
    },
  );
  router.use(errorHandler(deps.logger, deps.metrics));
  return router;
}

function validBody(req: Request, bodyError: unknown, limitBytes: number) {
  if (bodyError) {
    if ((bodyError as { type?: string }).type === 'entity.too.large')
      throw new PayloadTooLargeError(limitBytes);
    throw new InvalidBodyError([{ path: '(body)', message: 'the body must be a JSON object' }]);
  }
  if (!req.is('application/json')) {
    throw new InvalidBodyError([{ path: '(body)', message: 'the body must be sent as application/json' }]);
  }
  const parsed = parseSyncRequestBody(req.body);
  if (!parsed.ok) throw new InvalidBodyError(parsed.details);
  return parsed.body;
}
