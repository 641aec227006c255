import type { UndoJournalModel } from '../models/undo-journal';
import type { UndoJournal, UndoJournalEntry } from '../lib/undo/undo-journal';

/** The undo journal in abac_sync_undo_journal. */
export class MongoUndoJournal implements UndoJournal {
  constructor(private readonly journal: UndoJournalModel) {}

  async entriesOf(changeSet: string): Promise<UndoJournalEntry[]> {
    return this.journal.find({ changeSet }).sort({ userId: 1, _id: 1 }).lean<UndoJournalEntry[]>().exec();
  }

  async removeBefore(before: Date): Promise<number> {
    const { deletedCount } = await this.journal.deleteMany({ at: { $lt: before } }).exec();
    return deletedCount;
  }
}
