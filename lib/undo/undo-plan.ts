import type { AbacAttribute } from '../sync/abac-attribute';
import { sameAttributes, satisfies } from '../sync/attribute-mapping';
import type { NotRestoredRoom, StagedChange } from '../jobs/staged-change';
import type { Restorable } from '../sync/undo-record';
import { identity, resultOfChange } from '../sync/sync-plan';
import type { StoredUser } from '../sync/sync-store';
import type { RoomNow, UndoJournalEntry } from './undo-store';

// Pure decisions of an undo: what each user of a change set goes back to, which memberships come back, and
// who is left alone because they changed since. No I/O here.

/** One user of the change set, as undo reads them. */
export interface UndoSubject {
  userId: string;
  username: string;
  /** The change set's entries for this user. */
  entries: UndoJournalEntry[];
  /** The user as stored now; undefined when they are gone. */
  current: StoredUser | undefined;
  /** A later change set changed them (an entry of it in the journal). */
  changedLater: boolean;
}

/**
 * The staged change that takes one user's part of a change set back:
 * - their attributes go back to what they held before it;
 * - each membership it ended comes back, where the room still exists and admits those attributes (the
 *   others are listed, not restored);
 * - a user changed since (a later change set, attributes that are not what it left, a room it ended that
 *   they are in again, a room it gave back that they left) is marked stale and left alone.
 * The rooms the restored attributes no longer admit are the ones the apply will evict from (`roomsRevoked`).
 */
export function undoChangeOf(
  jobId: string,
  subject: UndoSubject,
  rooms: ReadonlyMap<string, RoomNow>,
): StagedChange {
  const { userId, username, entries, current } = subject;
  const held = current?.attributes ?? [];
  const base = { jobId, userId, username, before: held, roomsRevoked: [] };
  if (!current || changedSince(subject, held))
    return { ...base, status: 'unchanged', next: held, stale: true };

  const changed = entries.find((entry) => entry.kind === 'attributes');
  const next = changed?.kind === 'attributes' ? changed.before : held;
  const result = resultOfChange(identity({ _id: userId, username }), held, next);
  const restore: Restorable[] = [];
  const roomsNotRestored: NotRestoredRoom[] = [];
  for (const entry of entries) {
    if (entry.kind !== 'membershipEnded') continue;
    const room = rooms.get(entry.room._id);
    if (!room) roomsNotRestored.push({ ...entry.room, reason: 'room-gone' });
    else if (!admits(room, next)) roomsNotRestored.push({ ...entry.room, reason: 'not-satisfied' });
    else restore.push({ room: { _id: room._id, name: room.name }, subscription: entry.subscription });
  }
  const roomsRevoked = current.rooms
    .map((roomId) => rooms.get(roomId))
    .filter((room): room is RoomNow => !!room && !admits(room, next))
    .map(({ _id, name }) => ({ _id, name }));
  return {
    ...base,
    status: result.status,
    next,
    ...(result.added ? { added: result.added } : {}),
    ...(result.removed ? { removed: result.removed } : {}),
    roomsRevoked,
    ...(restore.length > 0 ? { restore } : {}),
    ...(roomsNotRestored.length > 0 ? { roomsNotRestored } : {}),
  };
}

/** The rooms undo needs to know of for these users: those their entries name, and those they are in now. */
export function roomsToCheck(subjects: readonly UndoSubject[]): string[] {
  return [
    ...new Set(
      subjects.flatMap(({ entries, current }) => [
        ...entries.flatMap((entry) => (entry.kind === 'attributes' ? [] : [entry.room._id])),
        ...(current?.rooms ?? []),
      ]),
    ),
  ];
}

function changedSince(subject: UndoSubject, held: readonly AbacAttribute[]): boolean {
  if (subject.changedLater) return true;
  const memberOf = new Set(subject.current?.rooms ?? []);
  return subject.entries.some((entry) => {
    if (entry.kind === 'attributes') return !sameAttributes(held, entry.after);
    if (entry.kind === 'membershipEnded') return memberOf.has(entry.room._id);
    return !memberOf.has(entry.room._id);
  });
}

function admits(room: RoomNow, attributes: readonly AbacAttribute[]): boolean {
  return room.abacAttributes.length === 0 || satisfies(attributes, room.abacAttributes);
}
