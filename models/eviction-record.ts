import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

/**
 * One subscription this module ended, so a removal run again (after a fault) never counts it out of the
 * room's usersCount twice. One document per room and subscription; removed after a day.
 */
export interface EvictionRecordDocument {
  /** `<roomId>:<subscriptionId>`. */
  _id: string;
  rid: string;
  s: string;
  at: Date;
  /** Set once the room's usersCount was decremented for it. */
  counted: boolean;
  /** The sync whose turn it is to count it out, and since when. */
  countingBy?: string;
  countingAt?: Date;
}

/** How long a record is kept: longer than any sync stalled between the steps of an eviction. */
export const EVICTION_RECORD_SECONDS = 24 * 60 * 60;

const evictionRecordSchema = new Schema<EvictionRecordDocument>(
  {
    _id: { type: String, required: true },
    rid: { type: String, required: true },
    s: { type: String, required: true },
    at: { type: Date, required: true },
    counted: { type: Boolean, required: true },
    countingBy: String,
    countingAt: Date,
  },
  hostDocumentOptions,
);
// Removed by MongoDB itself where TTL indexes work; the remover's own sweep covers servers without them.
evictionRecordSchema.index({ at: 1 }, { expireAfterSeconds: EVICTION_RECORD_SECONDS });

export type EvictionRecordModel = Model<EvictionRecordDocument>;

export function createEvictionRecordModel(connection: Connection): EvictionRecordModel {
  return bindModel(connection, 'EvictionRecord', evictionRecordSchema, 'abac_sync_evictions');
}
