import type { RoomNow, UndoJournalEntry, UndoStore } from '../../lib/undo/undo-store';
import type { MemorySyncStore } from './memory-sync-store';

/** The undo store port over a MemorySyncStore (its audit copy fills the journal). */
export class MemoryUndoStore implements UndoStore {
  constructor(private readonly store: MemorySyncStore) {}

  async usersOf(changeSet: string): Promise<string[]> {
    return [
      ...new Set(
        this.entries()
          .filter((entry) => entry.changeSet === changeSet)
          .map(({ userId }) => userId),
      ),
    ].sort();
  }

  async entriesOf(changeSet: string, userIds: readonly string[]): Promise<UndoJournalEntry[]> {
    const wanted = new Set(userIds);
    return this.entries()
      .filter((entry) => entry.changeSet === changeSet && wanted.has(entry.userId))
      .sort((a, b) => compare(a.userId, b.userId) || compare(a._id, b._id));
  }

  async lastChangedElsewhere(
    userIds: readonly string[],
    after: Date,
    changeSet: string,
  ): Promise<Map<string, Date>> {
    const wanted = new Set(userIds);
    const latest = new Map<string, Date>();
    for (const { userId, at, changeSet: other } of this.entries())
      if (wanted.has(userId) && at > after && other !== changeSet && !(latest.get(userId)! >= at))
        latest.set(userId, at);
    return latest;
  }

  async findRooms(roomIds: readonly string[]): Promise<Map<string, RoomNow>> {
    const found = new Map<string, RoomNow>();
    for (const id of roomIds) {
      const room = this.store.rooms.get(id);
      if (room) found.set(id, { _id: id, name: room.name, abacAttributes: room.abacAttributes ?? [] });
    }
    return found;
  }

  async wasAudited(changeSet: string): Promise<boolean> {
    return [...this.store.auditTrail.values()].some(({ data }) =>
      data.some(({ key, value }) => key === 'requestId' && value === changeSet),
    );
  }

  async removeBefore(before: Date): Promise<number> {
    let removed = 0;
    for (const [id, entry] of this.store.undoJournal)
      if (entry.at < before && this.store.undoJournal.delete(id)) removed += 1;
    return removed;
  }

  private entries(): UndoJournalEntry[] {
    return [...this.store.undoJournal].map(([_id, entry]) => ({ ...entry, _id }));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
