import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface SubscriptionDocument {
  _id: string;
  rid: string;
  u: { _id: string; username?: string };
}

const subscriptionSchema = new Schema<SubscriptionDocument>(
  {
    _id: { type: String, required: true },
    rid: { type: String, required: true },
    u: { _id: { type: String, required: true }, username: String },
  },
  hostDocumentOptions,
);
subscriptionSchema.index({ rid: 1, 'u._id': 1 }, { unique: true });
subscriptionSchema.index({ 'u._id': 1 });

export type SubscriptionModel = Model<SubscriptionDocument>;

export function createSubscriptionModel(connection: Connection): SubscriptionModel {
  return bindModel(connection, 'Subscription', subscriptionSchema, 'rocketchat_subscription');
}
