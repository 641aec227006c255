import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

/**
 * One counting window of one rate-limited key, as rate-limiter-flexible's MongoDB store keeps it: every
 * host process counts in the same document.
 */
export interface RateLimitDocument {
  /** `<limit name>:<key>`. */
  key: string;
  points: number;
  /** When the window ends. */
  expire: Date | null;
}

const rateLimitSchema = new Schema<RateLimitDocument>(
  { key: { type: String, required: true }, points: Number, expire: Date },
  // The store inserts its documents itself, with ObjectId ids.
  { ...hostDocumentOptions, _id: true },
);
// One document per key, so two processes counting a new key at once cannot open two windows.
rateLimitSchema.index({ key: 1 }, { unique: true });
// Removed by MongoDB itself where TTL indexes work; the store's sweep covers servers without them.
rateLimitSchema.index({ expire: 1 }, { expireAfterSeconds: 0 });

export type RateLimitModel = Model<RateLimitDocument>;

export function createRateLimitModel(connection: Connection): RateLimitModel {
  return bindModel(connection, 'RateLimit', rateLimitSchema, 'abac_sync_rate_limits');
}
