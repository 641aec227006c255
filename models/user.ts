import { Schema, type Connection, type Model } from 'mongoose';
import { bindModel, hostDocumentOptions } from './model-factory';
import type { AbacAttribute } from '../lib/sync/abac-attribute';
import type { ServerEventDocument } from './server-event';

export type { AbacAttribute };

/** A login token, or a personal access token (`type: 'personalAccessToken'`, `createdAt`, no `when`). */
export interface LoginToken {
  hashedToken: string;
  when?: Date;
  type?: string;
  createdAt?: Date;
  name?: string;
}

export interface UserDocument {
  _id: string;
  username?: string;
  name?: string;
  emails?: { address: string; verified?: boolean }[];
  active?: boolean;
  roles?: string[];
  ldap?: boolean;
  services?: {
    ldap?: { id?: string; idAttribute?: string };
    resume?: { loginTokens?: LoginToken[] };
  };
  __rooms?: string[];
  abacAttributes?: AbacAttribute[];
  /**
   * Audit events written in the same update as the change they record, by event id, until they are copied
   * to rocketchat_server_events (an outbox: a crash between the two loses nothing).
   */
  __abacAuditOutbox?: Record<string, ServerEventDocument>;
  _updatedAt?: Date;
}

export const abacAttributeSchema = new Schema<AbacAttribute>(
  { key: { type: String, required: true }, values: { type: [String], default: undefined } },
  { _id: false },
);

const userSchema = new Schema<UserDocument>(
  {
    _id: { type: String, required: true },
    username: String,
    name: String,
    emails: { type: [{ _id: false, address: String, verified: Boolean }], default: undefined },
    active: Boolean,
    roles: { type: [String], default: undefined },
    ldap: Boolean,
    services: Schema.Types.Mixed,
    __rooms: { type: [String], default: undefined },
    abacAttributes: { type: [abacAttributeSchema], default: undefined },
    _updatedAt: Date,
  },
  hostDocumentOptions,
);
userSchema.index({ username: 1 }, { unique: true, sparse: true });
userSchema.index({ 'emails.address': 1 }, { unique: true, sparse: true });
userSchema.index({ 'services.ldap.id': 1 }, { sparse: true });
userSchema.index({ 'services.resume.loginTokens.hashedToken': 1 }, { sparse: true });
// The feed finds the users holding a changed group's DN (multikey: one key per value).
userSchema.index({ 'abacAttributes.values': 1 }, { sparse: true });

export type UserModel = Model<UserDocument>;

export function createUserModel(connection: Connection): UserModel {
  return bindModel(connection, 'User', userSchema, 'users');
}
