import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

/** A short-lived claim on one user's ABAC attributes, held by one sync while it writes them. */
export interface WriteClaimDocument {
  _id: string;
  owner: string;
  expiresAt: Date;
}

const writeClaimSchema = new Schema<WriteClaimDocument>(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  hostDocumentOptions,
);

export type WriteClaimModel = Model<WriteClaimDocument>;

export function createWriteClaimModel(connection: Connection): WriteClaimModel {
  return bindModel(connection, 'WriteClaim', writeClaimSchema, 'abac_sync_write_claims');
}
