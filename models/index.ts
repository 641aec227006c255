import type { Connection } from 'mongoose';
import type { Logger } from '../lib/logger';
import { createMessageModel, type MessageModel } from './message';
import { createPermissionModel, type PermissionModel } from './permission';
import { createRoleModel, type RoleModel } from './role';
import { createRoomModel, type RoomModel } from './room';
import { createServerEventModel, type ServerEventModel } from './server-event';
import { createSettingModel, type SettingModel } from './setting';
import { createSubscriptionModel, type SubscriptionModel } from './subscription';
import { createUserModel, type UserModel } from './user';
import { createWriteClaimModel, type WriteClaimModel } from './write-claim';
import { createSyncJobModel, type SyncJobModel } from './sync-job';
import { createStagedChangeModel, type StagedChangeModel } from './staged-change';
import { createFeedStateModel, type FeedStateModel } from './feed-state';
import { createRateLimitModel, type RateLimitModel } from './rate-limit';
import { createRevocationEntryModel, type RevocationEntryModel } from './revocation-entry';
import { createEvictionRecordModel, type EvictionRecordModel } from './eviction-record';
import { createUndoJournalModel, type UndoJournalModel } from './undo-journal';

export type { AbacAttribute, LoginToken, UserDocument } from './user';
export type { RoleDocument } from './role';
export type { PermissionDocument } from './permission';
export type { SettingDocument } from './setting';
export type { RoomDocument } from './room';
export type { SubscriptionDocument } from './subscription';
export type { MessageDocument } from './message';
export type { ServerEventActor, ServerEventDocument } from './server-event';
export type { WriteClaimDocument } from './write-claim';
export type { SyncJobDocument } from './sync-job';
export type { StagedChangeDocument } from './staged-change';

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
  syncJobs: SyncJobModel;
  stagedChanges: StagedChangeModel;
  feedState: FeedStateModel;
  rateLimits: RateLimitModel;
  revocationEntries: RevocationEntryModel;
  evictionRecords: EvictionRecordModel;
  undoJournal: UndoJournalModel;
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
    syncJobs: createSyncJobModel(connection),
    stagedChanges: createStagedChangeModel(connection),
    feedState: createFeedStateModel(connection),
    rateLimits: createRateLimitModel(connection),
    revocationEntries: createRevocationEntryModel(connection),
    evictionRecords: createEvictionRecordModel(connection),
    undoJournal: createUndoJournalModel(connection),
  };
}

/** MongoDB's codes for an index that exists under the same name or keys with other options. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);
const DUPLICATE_KEY = 11000;

interface IndexedModel {
  collection: { collectionName: string; createIndex(keys: object, options: object): Promise<unknown> };
  schema: { indexes(): Array<[Record<string, unknown>, Record<string, unknown>]> };
}

/**
 * Creates the indexes the module's queries need, one by one. An index the host already has with other
 * options is kept as the host made it: its queries work either way. A unique index the host's data
 * violates (duplicate usernames, say) is not created: the start-up goes on and logs which index and why,
 * since the sync's correctness never rests on a unique index of the host's collections (it matches users
 * one by one and reports ambiguity). Anything else (the database unreachable) fails the start.
 */
export async function ensureIndexes(models: Models, logger?: Pick<Logger, 'warn'>): Promise<void> {
  await Promise.all(
    Object.values(models).flatMap((model: IndexedModel) =>
      model.schema.indexes().map(async ([keys, options]) => {
        try {
          await model.collection.createIndex(keys, { background: false, ...options });
        } catch (error) {
          const code = (error as { code?: number }).code ?? 0;
          if (INDEX_CONFLICT_CODES.has(code)) return;
          if (code !== DUPLICATE_KEY) throw error;
          logger?.warn(
            {
              collection: model.collection.collectionName,
              index: indexName(keys),
              // The server's message names the duplicated values (user data): it is not logged.
              reason: 'duplicate key (E11000) in the existing documents',
              fix: 'remove the duplicates and restart to create it',
            },
            'index not created: the existing data has duplicate keys',
          );
        }
      }),
    ),
  );
}

/** MongoDB's default name of an index: each key and its direction, joined by underscores. */
function indexName(keys: Record<string, unknown>): string {
  return Object.entries(keys)
    .map(([key, direction]) => `${key}_${String(direction)}`)
    .join('_');
}
