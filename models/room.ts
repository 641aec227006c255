import { Schema, type Connection, type Model } from 'mongoose';
import { abacAttributeSchema, type AbacAttribute } from './user';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface RoomDocument {
  _id: string;
  t: string;
  name?: string;
  usersCount?: number;
  abacAttributes?: AbacAttribute[];
  /**
   * The subscriptions this module has counted out of usersCount, with when: a repeated eviction step never
   * decrements twice. Entries older than a day are dropped.
   */
  __abacEvictions?: { s: string; at: Date }[];
  _updatedAt?: Date;
}

const roomSchema = new Schema<RoomDocument>(
  {
    _id: { type: String, required: true },
    t: { type: String, required: true },
    name: String,
    usersCount: Number,
    abacAttributes: { type: [abacAttributeSchema], default: undefined },
    _updatedAt: Date,
  },
  hostDocumentOptions,
);

export type RoomModel = Model<RoomDocument>;

export function createRoomModel(connection: Connection): RoomModel {
  return bindModel(connection, 'Room', roomSchema, 'rocketchat_room');
}
