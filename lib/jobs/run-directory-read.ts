import { LdapSizeLimitExceededError } from '../errors';
import type { Logger } from '../logger';
import type { AbacLdapSyncService } from '../sync/abac-ldap-sync-service';
import { DirectoryLargerThanExpectedError } from '../sync/directory-map';
import { EntryMapOutOfMemoryError, type EntryMap, type ReadEntryMap } from '../sync/entry-map';
import { PhaseTimer } from '../sync/phase-timer';
import type { SyncConfiguration } from '../sync/sync-configuration';
import type { SubjectIdentifiers, SyncStore } from '../sync/sync-store';
import type { SyncJob } from './sync-job';

export interface RunDirectoryReadPorts {
  engine: AbacLdapSyncService;
  store: SyncStore;
  logger: Logger;
  /** Where the map is kept (absent: in this thread, through the engine). */
  readEntryMap?: ReadEntryMap;
}

/**
 * A run's whole user subtree, read once into a map, with whose only entry each entry is counted over every
 * LDAP user; undefined when the run should look its users up in batches instead (a server size limit cut
 * the read short, the subtree is far larger than the users, or the map outgrew its memory). The subtree is
 * read while the users' identifiers are read from MongoDB: only the attributes they are stored under are
 * asked for first.
 */
export async function readRunDirectory(
  ports: RunDirectoryReadPorts,
  job: SyncJob,
  configuration: SyncConfiguration,
  timer: PhaseTimer,
  batchSize: number,
): Promise<EntryMap | undefined> {
  const { engine, store, logger } = ports;
  const storedIdAttributes = await timer.time('mongoReads', () => store.ldapIdentifierAttributes());
  const readMap: ReadEntryMap =
    ports.readEntryMap ??
    (async (configuration, storedIdAttributes, maxEntries, requestId) =>
      (
        await engine.readDirectoryMap(configuration, storedIdAttributes, requestId, undefined, maxEntries)
      ).asEntryMap());
  // Timed apart and merged: a timer counts a phase begun inside another as nested in it.
  const [mapTimer, usersTimer] = [new PhaseTimer(), new PhaseTimer()];
  const reading = mapTimer.time('ldap', () =>
    readMap(configuration, storedIdAttributes, mapLimit(job.progress.total), job._id),
  );
  // Its failure is judged below, once the identifiers are read; until then it is not left unhandled.
  reading.catch(() => undefined);
  let identifiers: SubjectIdentifiers[];
  try {
    identifiers = await usersTimer.time('mongoReads', () => readIdentifiers(store, batchSize));
  } catch (error) {
    await reading.then((map) => map.close()).catch(() => undefined);
    throw error;
  } finally {
    timer.add(usersTimer);
  }
  try {
    const map = await reading.finally(() => timer.add(mapTimer));
    await map.countOwners(identifiers);
    logger.info(
      { jobId: job._id, users: identifiers.length, entries: map.size, mapHeldIn: map.heldIn },
      'directory-wide sync run: directory read',
    );
    return map;
  } catch (error) {
    const why = whyLookUpInstead(error);
    if (!why) throw error;
    logger[why.level](
      { jobId: job._id, users: identifiers.length, err: (error as Error).message },
      `${why.reason}: looking users up in batches instead`,
    );
    return undefined;
  }
}

/**
 * How many entries a run reads into the map before it looks its users up instead: a directory with far more
 * people than the chat has LDAP users costs more to read whole than to look up.
 */
export function mapLimit(users: number): number {
  return Math.max(1000, 2 * users);
}

async function readIdentifiers(store: SyncStore, batchSize: number): Promise<SubjectIdentifiers[]> {
  const identifiers: SubjectIdentifiers[] = [];
  for await (const batch of store.ldapSubjectIdentifiers(batchSize)) identifiers.push(...batch);
  return identifiers;
}

/** Why a failed read of the map leaves the run to look its users up; undefined: the run fails with it. */
function whyLookUpInstead(error: unknown): { level: 'info' | 'warn'; reason: string } | undefined {
  if (error instanceof DirectoryLargerThanExpectedError)
    return { level: 'info', reason: 'the user subtree holds far more people than there are LDAP users' };
  if (error instanceof EntryMapOutOfMemoryError)
    return { level: 'warn', reason: 'the directory map outgrew the memory it was given' };
  if (error instanceof LdapSizeLimitExceededError)
    return { level: 'warn', reason: 'a size limit cut the read of the whole user subtree short' };
  return undefined;
}
