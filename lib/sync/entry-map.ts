import type { SyncConfiguration } from './sync-configuration';
import type { ResolvedMatch } from './sync-plan';
import type { SubjectIdentifiers } from './sync-store';

/**
 * The whole user subtree, read once and kept where it was read (this thread, or a worker thread of its own),
 * matching users to their entries by the rules of DirectoryMap.
 */
export interface EntryMap {
  /** How many entries were read. */
  readonly size: number;
  /** Where the map is kept, for the run's log. */
  readonly heldIn: 'the host thread' | 'a worker thread';
  /** Counts, over every user, whose only entry each entry is (before any user is matched). */
  countOwners(users: readonly SubjectIdentifiers[]): Promise<void>;
  /** Each user's match, in their order; undefined for a user the map cannot tell about (look them up). */
  match(users: readonly SubjectIdentifiers[]): Promise<(ResolvedMatch | undefined)[]>;
  /** Lets what the read holds go. */
  close(): Promise<void>;
}

/**
 * Reads the user subtree into an EntryMap, asking for the identifier attributes the users are stored under.
 * Throws as DirectoryMap.read does: the directory's errors, LdapSizeLimitExceededError,
 * DirectoryLargerThanExpectedError past `maxEntries`.
 */
export type ReadEntryMap = (
  configuration: SyncConfiguration,
  storedIdAttributes: readonly string[],
  maxEntries: number,
  requestId: string,
) => Promise<EntryMap>;

/** The map outgrew the memory it was given (a worker thread's heap limit): the run looks its users up. */
export class EntryMapOutOfMemoryError extends Error {}
