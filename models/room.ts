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
   * The evictions (abac_sync_evictions ids) whose usersCount decrement is under way: set with the decrement
   * in one update, pulled once the eviction's record says it was counted. Empty between evictions.
   */
  __abacCounting?: string[];
  /** Left by versions that recorded evictions in the room; honoured, and dropped after a day. */
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
