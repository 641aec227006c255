import { Schema, type Connection, type Model } from 'mongoose';
import type { SyncJob } from '../lib/jobs/sync-job';
import { bindModel, hostDocumentOptions } from './model-factory';

/** The one value of `activeSlot`: present only while a job is queued or running. */
export const ACTIVE_SLOT = 'full';

export interface SyncJobDocument extends SyncJob {
  /**
   * Set while the job is queued or running, unset in the same update that finishes it: the unique sparse
   * index on it lets exactly one job at a time be active, with no lock document to leak.
   */
  activeSlot?: typeof ACTIVE_SLOT;
}

const syncJobSchema = new Schema<SyncJobDocument>(
  {
    _id: { type: String, required: true },
    activeSlot: { type: String },
    createdAt: { type: Date },
  },
  hostDocumentOptions,
);
syncJobSchema.index({ activeSlot: 1 }, { unique: true, sparse: true });
syncJobSchema.index({ createdAt: -1 });

export type SyncJobModel = Model<SyncJobDocument>;

export function createSyncJobModel(connection: Connection): SyncJobModel {
  return bindModel(connection, 'SyncJob', syncJobSchema, 'abac_sync_jobs');
}
