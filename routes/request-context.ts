import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';

const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Per-request state the pipeline shares, kept in res.locals under one typed key. */
export interface RequestContext {
  requestId: string;
  /** performance.now() when the request reached the router. */
  startedAt: number;
  /** A body parser failure, held back so auth, license and permission checks answer first. */
  bodyError?: unknown;
}

export function requestContext(res: Response): RequestContext {
  return res.locals.abacSync as RequestContext;
}

/**
 * Takes the caller's X-Request-Id when it is well-formed, otherwise makes one; echoes it in the response.
 * Once per request.
 */
export function assignRequestId(req: Request, res: Response, next: NextFunction): void {
  if (res.locals.abacSync) return next();
  const offered = req.get(REQUEST_ID_HEADER);
  const requestId = offered && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
  const context: RequestContext = { requestId, startedAt: performance.now() };
  res.locals.abacSync = context;
  res.setHeader('X-Request-Id', requestId);
  next();
}
