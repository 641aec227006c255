import { Schema, type Connection, type Model } from 'mongoose';
import type { ServerEventActor, ServerEventDocument } from '../lib/sync/server-event';
import { bindModel, hostDocumentOptions } from './model-factory';

export type { ServerEventActor, ServerEventDocument };

const serverEventSchema = new Schema<ServerEventDocument>(
  {
    _id: { type: String, required: true },
    t: { type: String, required: true },
    ts: { type: Date, required: true },
    actor: Schema.Types.Mixed,
    data: [{ _id: false, key: String, value: Schema.Types.Mixed }],
  },
  hostDocumentOptions,
);
serverEventSchema.index({ t: 1, ts: -1 });

export type ServerEventModel = Model<ServerEventDocument>;

export function createServerEventModel(connection: Connection): ServerEventModel {
  return bindModel(connection, 'ServerEvent', serverEventSchema, 'rocketchat_server_events');
}
