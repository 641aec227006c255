import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface MessageDocument {
  _id: string;
  rid: string;
  t?: string;
  msg: string;
  u: { _id: string; username?: string };
  ts: Date;
  _updatedAt?: Date;
}

const messageSchema = new Schema<MessageDocument>(
  {
    _id: { type: String, required: true },
    rid: { type: String, required: true },
    t: String,
    msg: String,
    u: { _id: String, username: String },
    ts: Date,
    _updatedAt: Date,
  },
  hostDocumentOptions,
);
messageSchema.index({ rid: 1, ts: 1 });

export type MessageModel = Model<MessageDocument>;

export function createMessageModel(connection: Connection): MessageModel {
  return bindModel(connection, 'Message', messageSchema, 'rocketchat_message');
}
