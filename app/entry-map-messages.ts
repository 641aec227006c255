import type { SyncConfiguration } from '../lib/sync/sync-configuration';
import type { ResolvedMatch } from '../lib/sync/sync-plan';
import type { SubjectIdentifiers } from '../lib/sync/sync-store';

// The messages between a run and the worker thread that keeps its entry map (entry-map-worker.ts).

/** What the worker reads: its workerData. */
export interface EntryMapStart {
  configuration: SyncConfiguration;
  storedIdAttributes: readonly string[];
  maxEntries: number;
}

export type ToEntryMapWorker =
  | { kind: 'countOwners'; id: number; users: readonly SubjectIdentifiers[] }
  | { kind: 'match'; id: number; users: readonly SubjectIdentifiers[] };

export type FromEntryMapWorker =
  | { kind: 'ready'; size: number; references: number }
  /** The read failed: the error's class name (rebuilt on the run's side), message, and limit if any. */
  | { kind: 'failed'; name: string; message: string; maxEntries?: number }
  | { kind: 'answer'; id: number; matches?: (ResolvedMatch | undefined)[] };
