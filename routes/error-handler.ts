import type { ErrorRequestHandler } from 'express';
import { errorFields } from '../lib/error-fields';
import { isDatabaseUnavailable } from '../lib/database-errors';
import {
  AbacSyncError,
  DatabaseUnavailableError,
  InternalError,
  LdapUnavailableError,
  MalformedPathError,
  MethodNotAllowedError,
} from '../lib/errors';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger';
import type { SyncMetrics } from '../lib/metrics';
import { requestContext } from './request-context';

/** The one place where errors become HTTP responses: `{success: false, error, message?, details?}`. */
export function errorHandler(logger: Logger, metrics: SyncMetrics): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const context = requestContext(res);
    const requestId = context?.requestId;
    const known = toAbacSyncError(error);
    metrics.requestAnswered({
      outcome: known.status >= 500 ? 'failed' : 'rejected',
      code: known.code,
      seconds: context ? (performance.now() - context.startedAt) / 1000 : 0,
    });
    if (known instanceof InternalError)
      logger.error({ requestId, err: errorFields(error) }, 'unexpected error');
    else if (known instanceof DatabaseUnavailableError)
      logger.warn({ requestId, err: errorFields(error) }, 'database unavailable');
    else if (known instanceof LdapUnavailableError)
      logger.warn({ requestId, err: errorFields(error) }, 'LDAP directory unavailable');

    if (known.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(known.retryAfterSeconds));
    if (known instanceof MethodNotAllowedError) res.setHeader('Allow', known.allow.join(', '));
    res.status(known.status).json({
      success: false,
      error: known.code,
      message: known.publicMessage,
      ...(known.details ? { details: known.details } : {}),
      ...known.extra,
      ...(known instanceof InternalError ? { requestId } : {}),
    });
  };
}

function toAbacSyncError(error: unknown): AbacSyncError {
  if (error instanceof AbacSyncError) return error;
  // Express decodes a route's parameters before any handler runs, and throws this when it cannot.
  if (error instanceof URIError) return new MalformedPathError();
  if (isDatabaseUnavailable(error)) return new DatabaseUnavailableError('The database is unavailable');
  return new InternalError('Internal error');
}
