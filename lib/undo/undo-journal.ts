import type { UndoRecord } from '../sync/undo-record';

/** One change as the undo journal keeps it: its audit event's id and time, and its undo record. */
export type UndoJournalEntry = UndoRecord & { _id: string; at: Date };

// The undo journal port: written only through the users' outboxes (SyncStore.copyAudit), read by undo.
// The MongoDB adapter lives in mongo/; tests also use an in-memory one.
export interface UndoJournal {
  /** The entries of one change set (a request's id, a run's job id, a feed batch's id), by user id. */
  entriesOf(changeSet: string): Promise<UndoJournalEntry[]>;
  /** Removes the entries of changes made before `before`; resolves with how many went. */
  removeBefore(before: Date): Promise<number>;
}
