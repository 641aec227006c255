import type { UndoJournal, UndoJournalEntry } from '../../lib/undo/undo-journal';
import type { MemorySyncStore } from './memory-sync-store';

/** The undo journal port over a MemorySyncStore's journal (which its audit copy fills). */
export class MemoryUndoJournal implements UndoJournal {
  constructor(private readonly store: MemorySyncStore) {}

  async entriesOf(changeSet: string): Promise<UndoJournalEntry[]> {
    return [...this.store.undoJournal]
      .filter(([, entry]) => entry.changeSet === changeSet)
      .map(([_id, entry]) => ({ ...entry, _id }))
      .sort((a, b) => compare(a.userId, b.userId) || compare(a._id, b._id));
  }

  async removeBefore(before: Date): Promise<number> {
    let removed = 0;
    for (const [id, entry] of this.store.undoJournal)
      if (entry.at < before && this.store.undoJournal.delete(id)) removed += 1;
    return removed;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
