import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface ServerEventActor {
  type: 'user' | 'system';
  _id?: string;
  username?: string;
  /** For the system: the job whose run made the change. */
  jobId?: string;
}

export interface ServerEventDocument {
  _id: string;
  t: string;
  ts: Date;
  actor: ServerEventActor;
  data: { key: string; value: unknown }[];
}

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
