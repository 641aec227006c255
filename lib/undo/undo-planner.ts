import type { StagedChange } from '../jobs/staged-change';
import type { JobSummary } from '../jobs/sync-job';
import type { SyncStore } from '../sync/sync-store';
import { roomsToCheck, undoChangeOf, type UndoSubject } from './undo-plan';
import type { UndoJournalEntry, UndoStore } from './undo-store';

export interface UndoPlannerPorts {
  undo: UndoStore;
  users: Pick<SyncStore, 'readUsers'>;
}

/** The reads around undoChangeOf: a batch of a change set's users, planned from the journal and as they are. */
export class UndoPlanner {
  constructor(private readonly ports: UndoPlannerPorts) {}

  /** The users the change set changed, sorted (a run's checkpoint is the last one planned). */
  usersOf(changeSet: string): Promise<string[]> {
    return this.ports.undo.usersOf(changeSet);
  }

  /** The staged changes that take these users' part of the change set back, for the plan `jobId`. */
  async planBatch(jobId: string, changeSet: string, userIds: readonly string[]): Promise<StagedChange[]> {
    const { undo, users } = this.ports;
    const [entries, current] = await Promise.all([
      undo.entriesOf(changeSet, userIds),
      users.readUsers(userIds),
    ]);
    if (entries.length === 0) return [];
    const byUser = new Map<string, UndoJournalEntry[]>();
    for (const entry of entries) byUser.set(entry.userId, [...(byUser.get(entry.userId) ?? []), entry]);
    const firstAt = entries.reduce((earliest, { at }) => (at < earliest ? at : earliest), entries[0]!.at);
    const later = await undo.lastChangedElsewhere(userIds, firstAt, changeSet);
    const currentById = new Map(current.map((user) => [user._id, user]));
    const subjects: UndoSubject[] = [...byUser].map(([userId, own]) => {
      const lastOwn = own.reduce((latest, { at }) => (at > latest ? at : latest), firstAt);
      const elsewhere = later.get(userId);
      return {
        userId,
        username: own[0]!.username,
        entries: own,
        current: currentById.get(userId),
        changedLater: elsewhere !== undefined && elsewhere > lastOwn,
      };
    });
    const rooms = await undo.findRooms(roomsToCheck(subjects));
    return subjects.map((subject) => undoChangeOf(jobId, subject, rooms));
  }
}

/** What a batch of an undo's plan adds to its job's counters (the plan is reported as a dry run's is). */
export function undoCounts(changes: readonly StagedChange[]): Partial<JobSummary> {
  const counts = { requested: changes.length, matched: changes.length } as Required<Omit<JobSummary, never>>;
  const add = (key: keyof JobSummary, value: number) => {
    if (value > 0) counts[key] = (counts[key] ?? 0) + value;
  };
  for (const change of changes) {
    if (change.stale) {
      add('stale', 1);
      continue;
    }
    add(change.status, 1);
    add('roomsRevoked', change.roomsRevoked.length);
    add('roomsRestored', change.restore?.length ?? 0);
  }
  return counts;
}
