import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LdapSettingsInvalidError, LdapSizeLimitExceededError, LdapUnavailableError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { DirectoryLargerThanExpectedError } from '../lib/sync/directory-map';
import { EntryMapOutOfMemoryError, type EntryMap, type ReadEntryMap } from '../lib/sync/entry-map';
import type { EntryMapStart, FromEntryMapWorker, ToEntryMapWorker } from './entry-map-messages';

export interface MapWorkerOptions {
  /**
   * The old-generation heap, in MiB, of the worker thread that keeps a run's directory map; `false` keeps
   * the map in the host's thread. A map that outgrows it makes the run look its users up instead.
   */
  mapHeapLimitMb: number | false;
}

export const DEFAULT_MAP_WORKER_OPTIONS: MapWorkerOptions = { mapHeapLimitMb: 512 };

/**
 * Keeps each run's entry map in a worker thread of its own, whose old-generation heap is limited to
 * `heapLimitMb`: the host's event loop never decodes the subtree, and its heap never holds the map. The
 * worker opens its own session with the built-in LDAP client.
 */
export function workerEntryMaps(options: { heapLimitMb: number; logger: Logger }): ReadEntryMap {
  return async (configuration, storedIdAttributes, maxEntries, requestId) => {
    const worker = startWorker({ configuration, storedIdAttributes, maxEntries }, options.heapLimitMb);
    const pending = new Map<
      number,
      { resolve(message: FromEntryMapWorker): void; reject(error: Error): void }
    >();
    let nextId = 0;
    let ready: { resolve(size: number): void; reject(error: Error): void } | undefined;
    const failAll = (error: Error) => {
      ready?.reject(error);
      for (const { reject } of pending.values()) reject(error);
      pending.clear();
    };
    worker.on('error', (error: Error & { code?: string }) =>
      failAll(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new EntryMapOutOfMemoryError(`the entry map outgrew its ${options.heapLimitMb} MiB heap`)
          : error,
      ),
    );
    worker.on('exit', () => failAll(new Error('the entry map worker stopped')));
    worker.on('message', (message: FromEntryMapWorker) => {
      if (message.kind === 'ready') {
        if (message.references > 0)
          options.logger.warn(
            { requestId, ldapReferrals: message.references },
            'LDAP search returned referrals, which are not followed',
          );
        ready?.resolve(message.size);
      } else if (message.kind === 'failed') ready?.reject(rebuilt(message));
      else {
        pending.get(message.id)?.resolve(message);
        pending.delete(message.id);
      }
    });
    const ask = (request: Omit<ToEntryMapWorker, 'id'>) =>
      new Promise<FromEntryMapWorker>((resolve, reject) => {
        const id = (nextId += 1);
        pending.set(id, { resolve, reject });
        worker.postMessage({ ...request, id });
      });
    let size: number;
    try {
      size = await new Promise<number>((resolve, reject) => {
        ready = { resolve, reject };
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    ready = undefined;
    const map: EntryMap = {
      size,
      heldIn: 'a worker thread',
      countOwners: async (users) => {
        await ask({ kind: 'countOwners', users });
      },
      match: async (users) => {
        // Only what matching reads crosses the thread: a run hands over whole subjects.
        const identifiers = users.map(({ _id, username, ldap }) => ({ _id, username, ldap }));
        const answer = await ask({ kind: 'match', users: identifiers });
        return answer.kind === 'answer' ? (answer.matches ?? []) : [];
      },
      close: async () => {
        worker.removeAllListeners('exit');
        await worker.terminate();
      },
    };
    return map;
  };
}

/** The worker: compiled JavaScript in the package; from the sources (tests, development) through tsx. */
function startWorker(workerData: EntryMapStart, heapLimitMb: number): Worker {
  const extension = extname(__filename);
  const entry = join(__dirname, `entry-map-worker${extension}`);
  const options = { workerData, resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } };
  if (extension === '.js') return new Worker(entry, options);
  return new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(entry)});`, {
    ...options,
    eval: true,
  });
}

/** The worker's error as the run knows it: the directory's errors keep their meaning across the thread. */
function rebuilt(failure: { name: string; message: string; maxEntries?: number }): Error {
  switch (failure.name) {
    case 'DirectoryLargerThanExpectedError':
      return new DirectoryLargerThanExpectedError(failure.maxEntries ?? 0);
    case 'LdapSizeLimitExceededError':
      return new LdapSizeLimitExceededError(failure.message);
    case 'LdapUnavailableError':
    case 'LdapConnectionLostError':
      return new LdapUnavailableError(failure.message);
    case 'LdapSettingsInvalidError':
      return new LdapSettingsInvalidError(failure.message);
    default:
      return new Error(`${failure.name}: ${failure.message}`);
  }
}
