import { isDatabaseUnavailable } from './database-errors';
import { AbacSyncError, DatabaseUnavailableError } from './errors';

/**
 * What background work (a run, a feed poll) records of the error it ended on: the module's code and public
 * message, the database's unavailability as such, anything else as error-internal (details go to the log).
 */
export function reportedError(error: unknown, what: string): { code: string; message: string } {
  if (error instanceof AbacSyncError) return { code: error.code, message: error.publicMessage };
  if (isDatabaseUnavailable(error)) {
    const unavailable = new DatabaseUnavailableError('The database is unavailable');
    return { code: unavailable.code, message: unavailable.publicMessage };
  }
  return { code: 'error-internal', message: `${what} failed on an unexpected error; see the server log` };
}
