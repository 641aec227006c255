import { Schema, type Connection, type Model } from 'mongoose';
import type { UndoRecord } from '../lib/sync/undo-record';
import { bindModel, hostDocumentOptions } from './model-factory';

/**
 * What undo needs to take one audited change back: its event's id, when it was made, and the record the
 * change carried in the user's outbox. Removed after ABAC_Sync_Undo_Retention_Days by the housekeeping pass
 * (a setting, so no TTL index).
 */
export type UndoJournalDocument = UndoRecord & { _id: string; at: Date };

const undoJournalSchema = new Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    changeSet: { type: String, required: true },
    userId: { type: String, required: true },
    username: String,
    kind: { type: String, required: true },
    before: Schema.Types.Mixed,
    after: Schema.Types.Mixed,
    room: Schema.Types.Mixed,
    subscription: Schema.Types.Mixed,
  },
  hostDocumentOptions,
);
undoJournalSchema.index({ changeSet: 1, userId: 1 });
undoJournalSchema.index({ at: 1 });
undoJournalSchema.index({ userId: 1, at: 1 });

export type UndoJournalModel = Model<UndoJournalDocument>;

export function createUndoJournalModel(connection: Connection): UndoJournalModel {
  return bindModel(
    connection,
    'UndoJournal',
    undoJournalSchema as unknown as Schema<UndoJournalDocument>,
    'abac_sync_undo_journal',
  );
}
