import type { Connection } from 'mongoose';
import { createMessageModel, type MessageModel } from './message';
import { createPermissionModel, type PermissionModel } from './permission';
import { createRoleModel, type RoleModel } from './role';
import { createRoomModel, type RoomModel } from './room';
import { createServerEventModel, type ServerEventModel } from './server-event';
import { createSettingModel, type SettingModel } from './setting';
import { createSubscriptionModel, type SubscriptionModel } from './subscription';
import { createUserModel, type UserModel } from './user';
import { createWriteClaimModel, type WriteClaimModel } from './write-claim';

export type { AbacAttribute, LoginToken, UserDocument } from './user';
export type { RoleDocument } from './role';
export type { PermissionDocument } from './permission';
export type { SettingDocument } from './setting';
export type { RoomDocument } from './room';
export type { SubscriptionDocument } from './subscription';
export type { MessageDocument } from './message';
export type { ServerEventActor, ServerEventDocument } from './server-event';
export type { WriteClaimDocument } from './write-claim';

export interface Models {
  users: UserModel;
  roles: RoleModel;
  permissions: PermissionModel;
  settings: SettingModel;
  rooms: RoomModel;
  subscriptions: SubscriptionModel;
  messages: MessageModel;
  serverEvents: ServerEventModel;
  writeClaims: WriteClaimModel;
}

/** Every model the module uses, bound to the host's connection (never the global mongoose). */
export function createModels(connection: Connection): Models {
  return {
    users: createUserModel(connection),
    roles: createRoleModel(connection),
    permissions: createPermissionModel(connection),
    settings: createSettingModel(connection),
    rooms: createRoomModel(connection),
    subscriptions: createSubscriptionModel(connection),
    messages: createMessageModel(connection),
    serverEvents: createServerEventModel(connection),
    writeClaims: createWriteClaimModel(connection),
  };
}

/** MongoDB's codes for an index that exists under the same name or keys with other options. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

/**
 * Creates the indexes the module's queries need. An index the host already has with other options is kept
 * as the host made it: its queries work either way.
 */
export async function ensureIndexes(models: Models): Promise<void> {
  await Promise.all(
    Object.values(models).map(async (model: { createIndexes(): Promise<unknown> }) => {
      try {
        await model.createIndexes();
      } catch (error) {
        if (!INDEX_CONFLICT_CODES.has((error as { code?: number }).code ?? 0)) throw error;
      }
    }),
  );
}
