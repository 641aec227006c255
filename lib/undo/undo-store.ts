import type { AbacAttribute } from '../sync/abac-attribute';
import type { UndoRecord } from '../sync/undo-record';

/** One change as the undo journal keeps it: its audit event's id and time, and its undo record. */
export type UndoJournalEntry = UndoRecord & { _id: string; at: Date };

/** A room as undo checks it: whether it still exists, and what it asks of its members now. */
export interface RoomNow {
  _id: string;
  name: string;
  /** Empty: not ABAC-managed (it admits anyone). */
  abacAttributes: AbacAttribute[];
}

// The undo store port: the journal (written only through the users' outboxes, SyncStore.copyAudit) and
// what undo reads besides. The MongoDB adapter lives in mongo/; tests also use an in-memory one.
export interface UndoStore {
  /** The ids of the users a change set changed (a request's id, a run's job id, a feed batch's id), sorted. */
  usersOf(changeSet: string): Promise<string[]>;
  /** The change set's entries for these users, by user id, then entry id. */
  entriesOf(changeSet: string, userIds: readonly string[]): Promise<UndoJournalEntry[]>;
  /** For each of these users with any: the time of their latest entry of another change set after `after`. */
  lastChangedElsewhere(
    userIds: readonly string[],
    after: Date,
    changeSet: string,
  ): Promise<Map<string, Date>>;
  /** The rooms among these ids that exist now (the others are gone). */
  findRooms(roomIds: readonly string[]): Promise<Map<string, RoomNow>>;
  /** Whether the audit trail holds any event of this change set (its journal may have expired). */
  wasAudited(changeSet: string): Promise<boolean>;
  /** Removes the entries of changes made before `before`; resolves with how many went. */
  removeBefore(before: Date): Promise<number>;
}
