import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import {
  EnterpriseLicenseRequiredError,
  InvalidBodyError,
  NotAuthorizedError,
  PayloadTooLargeError,
  type ErrorDetail,
} from '../lib/errors';
import type { Caller } from '../lib/access/caller';
import { fingerprint, type LoginGate } from '../lib/access/login-gate';
import { RecentSet } from '../lib/access/recent-set';
import { systemClock, type Clock } from '../lib/clock';
import { REQUIRED_LICENSE_MODULES, type LicensePort } from '../lib/access/license';
import { refuseOverLimit, type RateLimit } from '../lib/access/rate-limit';
import type { PermissionChecker } from '../permissions/permission-checker';
import { requestContext } from './request-context';

export interface AdminGateDeps {
  loginGate: LoginGate;
  license: LicensePort;
  permissions: PermissionChecker;
  /** Syncs, run starts and applies per caller (after authentication); undefined: no limit. */
  callerLimiter?: RateLimit;
  /** Reads per caller, counted apart; undefined: no limit. */
  readLimiter?: RateLimit;
  /** Paces what the gate remembers of recent admissions; the system clock when absent. */
  clock?: Clock;
}

/**
 * Which limit a route counts against: `writes` (a sync, a run started, a plan applied), `reads`, or `never`
 * (stopping a run or the feed: an admin who needs the brake is never told to wait).
 */
export type GateLimit = 'writes' | 'reads' | 'never';

export type Admit = (req: Request, limit?: GateLimit) => Promise<Caller>;

export interface AdminGate {
  admit: Admit;
  /**
   * Whether the request's credentials passed every check of the gate within the last minutes, in this
   * process: a route may begin reading (never writing or answering) for such a caller while the gate
   * checks them again.
   */
  recentlyAdmitted(req: Request): boolean;
}

const RECENTLY_ADMITTED = { ttlMs: 5 * 60_000, maxKeys: 10_000 };

/**
 * The checks every route makes before telling a caller anything, in this order: logged in (401, and 429 for
 * repeated failures), within the caller's rate (429), licensed (400), holding both permissions (403).
 */
export function adminGate(deps: AdminGateDeps): AdminGate {
  const admitted = new RecentSet(RECENTLY_ADMITTED, deps.clock ?? systemClock);
  const admit: Admit = async (req, limit = 'writes') => {
    const limiter =
      limit === 'writes' ? deps.callerLimiter : limit === 'reads' ? deps.readLimiter : undefined;
    const credentials = credentialsOf(req);
    // req.ip, so the host's `trust proxy` applies.
    const caller = await deps.loginGate.admit(req.ip ?? 'unknown', credentials);
    // Counted, licensed and permitted at once (the counting is the one round trip); answered in that order.
    const [decision, licensed, permitted] = await Promise.all([
      limiter?.take(caller._id),
      deps.license.hasModules(REQUIRED_LICENSE_MODULES),
      deps.permissions.grantsSync(caller.roles),
    ]);
    refuseOverLimit(decision);
    if (!licensed) throw new EnterpriseLicenseRequiredError();
    if (!permitted) throw new NotAuthorizedError();
    const key = fingerprint(credentials);
    if (key !== undefined) admitted.add(key);
    return caller;
  };
  return {
    admit,
    recentlyAdmitted: (req) => {
      const key = fingerprint(credentialsOf(req));
      return key !== undefined && admitted.has(key);
    },
  };
}

function credentialsOf(req: Request) {
  return { userId: req.get('x-user-id'), authToken: req.get('x-auth-token') };
}

/** Parses a JSON body but holds a failure back, so the gate answers first. */
export function holdBackJsonErrors(limitBytes: number) {
  const parseJson = express.json({ limit: limitBytes, strict: true, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
    parseJson(req, res, (error?: unknown) => {
      if (error) requestContext(res).bodyError = error;
      next();
    });
  };
}

const MAX_DETAILS = 20;

/** The body as the schema reads it; a refused body throws the 400 or 413 with details. */
export function validBody<T extends z.ZodType>(
  req: Request,
  res: Response,
  schema: T,
  limitBytes: number,
  options: { optional?: boolean } = {},
): z.infer<T> {
  const { bodyError } = requestContext(res);
  if (bodyError) {
    if ((bodyError as { type?: string }).type === 'entity.too.large')
      throw new PayloadTooLargeError(limitBytes);
    throw new InvalidBodyError([{ path: '(body)', message: 'the body must be a JSON object' }]);
  }
  const length = req.get('content-length');
  const sentNothing = !req.get('transfer-encoding') && (length === undefined || length === '0');
  if (options.optional && sentNothing) return schema.parse({});
  if (!req.is('application/json')) {
    throw new InvalidBodyError([{ path: '(body)', message: 'the body must be sent as application/json' }]);
  }
  const result = schema.safeParse(req.body);
  if (result.success) return result.data;
  throw new InvalidBodyError(detailsOf(result.error.issues));
}

export function detailsOf(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  return issues.slice(0, MAX_DETAILS).map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }));
}
