import { Schema, type Connection, type Model } from 'mongoose';
import { MAX_GUARD_WINDOW_MINUTES } from '../lib/jobs/revocation-guard';
import { bindModel, hostDocumentOptions } from './model-factory';

/**
 * One part of an entry of the guard's window: an unattended plan's users who lose values. A large plan's
 * users are split over several parts, so no document nears MongoDB's size limit.
 */
export interface RevocationEntryDocument {
  /** `<entry>#<generation>#<part>`. */
  _id: string;
  entry: string;
  /** Entering an entry again writes a new generation, then removes the older ones. */
  generation: string;
  userIds: string[];
  at: Date;
}

const revocationEntrySchema = new Schema<RevocationEntryDocument>(
  {
    _id: { type: String, required: true },
    entry: { type: String, required: true },
    generation: { type: String, required: true },
    userIds: [String],
    at: { type: Date, required: true },
  },
  hostDocumentOptions,
);
revocationEntrySchema.index({ entry: 1 });
// Removed by MongoDB itself where TTL indexes work, once no window can reach them; the ledger's own sweep
// covers servers without them.
revocationEntrySchema.index({ at: 1 }, { expireAfterSeconds: MAX_GUARD_WINDOW_MINUTES * 60 });

export type RevocationEntryModel = Model<RevocationEntryDocument>;

export function createRevocationEntryModel(connection: Connection): RevocationEntryModel {
  return bindModel(connection, 'RevocationEntry', revocationEntrySchema, 'abac_sync_revocations');
}
