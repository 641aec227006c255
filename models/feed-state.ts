import { Schema, type Connection, type Model } from 'mongoose';
import type { FeedState } from '../lib/feed/feed-store';
import { bindModel, hostDocumentOptions } from './model-factory';

/** The feed's state: one document, `_id` FEED_STATE_ID. */
export const FEED_STATE_ID = 'change-feed';

export interface FeedStateDocument extends FeedState {
  _id: string;
}

const feedStateSchema = new Schema<FeedStateDocument>(
  { _id: { type: String, required: true } },
  hostDocumentOptions,
);

export type FeedStateModel = Model<FeedStateDocument>;

export function createFeedStateModel(connection: Connection): FeedStateModel {
  return bindModel(connection, 'FeedState', feedStateSchema, 'abac_sync_feed');
}
