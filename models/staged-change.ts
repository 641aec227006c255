import { Schema, type Connection, type Model } from 'mongoose';
import type { StagedChange } from '../lib/jobs/staged-change';
import { bindModel, hostDocumentOptions } from './model-factory';

/** One user's planned change in a run's staging; `_id` is `<jobId>/<userId>`, so staging again replaces it. */
export interface StagedChangeDocument extends StagedChange {
  _id: string;
}

const stagedChangeSchema = new Schema<StagedChangeDocument>(
  {
    _id: { type: String, required: true },
    jobId: { type: String, required: true },
    userId: { type: String, required: true },
  },
  hostDocumentOptions,
);
stagedChangeSchema.index({ jobId: 1, userId: 1 });
// The review's order: a page is a range of this index.
stagedChangeSchema.index({ jobId: 1, username: 1, userId: 1 });

export type StagedChangeModel = Model<StagedChangeDocument>;

export function createStagedChangeModel(connection: Connection): StagedChangeModel {
  return bindModel(connection, 'StagedChange', stagedChangeSchema, 'abac_sync_staged_changes');
}
