import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface SettingDocument {
  _id: string;
  value: unknown;
  _updatedAt?: Date;
}

const settingSchema = new Schema<SettingDocument>(
  { _id: { type: String, required: true }, value: Schema.Types.Mixed, _updatedAt: Date },
  hostDocumentOptions,
);

export type SettingModel = Model<SettingDocument>;

export function createSettingModel(connection: Connection): SettingModel {
  return bindModel(connection, 'Setting', settingSchema, 'rocketchat_settings');
}
