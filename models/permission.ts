import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';

export interface PermissionDocument {
  _id: string;
  roles: string[];
  _updatedAt?: Date;
}

const permissionSchema = new Schema<PermissionDocument>(
  { _id: { type: String, required: true }, roles: { type: [String], default: [] }, _updatedAt: Date },
  hostDocumentOptions,
);

export type PermissionModel = Model<PermissionDocument>;

export function createPermissionModel(connection: Connection): PermissionModel {
  return bindModel(connection, 'Permission', permissionSchema, 'rocketchat_permissions');
}
