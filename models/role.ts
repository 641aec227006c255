import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface RoleDocument {
  _id: string;
  name: string;
  scope: 'Users' | 'Subscriptions';
  description?: string;
  protected?: boolean;
}

const roleSchema = new Schema<RoleDocument>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    scope: { type: String, enum: ['Users', 'Subscriptions'], required: true },
    description: String,
    protected: Boolean,
  },
  hostDocumentOptions,
);
roleSchema.index({ name: 1 }, { unique: true });

export type RoleModel = Model<RoleDocument>;

export function createRoleModel(connection: Connection): RoleModel {
  return bindModel(connection, 'Role', roleSchema, 'rocketchat_roles');
}
