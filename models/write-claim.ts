import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

/** A short-lived claim on one user's ABAC attributes, held by one sync while it writes them. */
export interface WriteClaimDocument {
  _id: string;
  owner: string;
  /** The database server's time when the claim was taken ($currentDate): expiry never reads a host clock. */
  claimedAt: Date;
}

/** Claims older than this are removed by MongoDB itself where TTL indexes work; the sweep covers the rest. */
export const CLAIM_TTL_INDEX_SECONDS = 3600;

const writeClaimSchema = new Schema<WriteClaimDocument>(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    claimedAt: { type: Date },
  },
  hostDocumentOptions,
);
writeClaimSchema.index({ claimedAt: 1 }, { expireAfterSeconds: CLAIM_TTL_INDEX_SECONDS });

export type WriteClaimModel = Model<WriteClaimDocument>;

export function createWriteClaimModel(connection: Connection): WriteClaimModel {
  return bindModel(connection, 'WriteClaim', writeClaimSchema, 'abac_sync_write_claims');
}
