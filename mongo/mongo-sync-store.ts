import type { Models } from '../models';
import type { RoomDocument } from '../models/room';
import type { UserDocument } from '../models/user';
import { addToGroup } from '../lib/group';
import type { Clock } from '../lib/clock';
import type { Logger } from '../lib/logger';
import type { SyncMetrics } from '../lib/metrics';
import type { Identifiers } from '../lib/sync/sync-request';
import type { StoredSubscription } from '../lib/sync/undo-record';
import {
  membershipKey,
  type AbacRoom,
  type StoredUser,
  type ClaimedWork,
  type ConditionalWrite,
  type Outboxes,
  type SyncStore,
} from '../lib/sync/sync-store';
import { MongoAuditOutbox } from './audit-outbox';
import { OUTBOX_FIELD, writeIfUnchanged } from './conditional-writes';
import {
  countLdapSubjects,
  findSubjects,
  ldapIdentifierAttributes,
  ldapSubjectIdentifiers,
  ldapSubjects,
} from './user-lookup';
import { WriteClaims } from './write-claims';

export interface MongoSyncStorePorts {
  models: Pick<Models, 'users' | 'rooms' | 'subscriptions' | 'writeClaims' | 'serverEvents' | 'undoJournal'>;
  clock: Clock;
  logger: Logger;
  metrics: Pick<SyncMetrics, 'auditWritesFailed'>;
}

/**
 * The store port on MongoDB (Rocket.Chat's collections, bound to the host's connection). Every query and
 * write is keyed by a single indexed field or by _id, shapes every MongoDB-wire server answers from an index.
 */
export class MongoSyncStore implements SyncStore {
  private readonly claims: WriteClaims;
  private readonly outbox: MongoAuditOutbox;

  constructor(private readonly ports: MongoSyncStorePorts) {
    const { models, clock, logger, metrics } = ports;
    this.claims = new WriteClaims({ writeClaims: models.writeClaims, clock });
    this.outbox = new MongoAuditOutbox({
      serverEvents: models.serverEvents,
      undoJournal: models.undoJournal,
      users: models.users,
      logger,
      metrics,
    });
  }

  findSubjects(identifiers: Identifiers) {
    return findSubjects(this.ports.models.users, identifiers);
  }

  countLdapSubjects(): Promise<number> {
    return countLdapSubjects(this.ports.models.users);
  }

  ldapSubjects(afterUserId: string | undefined, batchSize: number) {
    return ldapSubjects(this.ports.models.users, afterUserId, batchSize);
  }

  ldapSubjectIdentifiers(batchSize: number) {
    return ldapSubjectIdentifiers(this.ports.models.users, batchSize);
  }

  ldapIdentifierAttributes(): Promise<string[]> {
    return ldapIdentifierAttributes(this.ports.models.users);
  }

  async findAbacRooms(roomIds: readonly string[]): Promise<AbacRoom[]> {
    if (roomIds.length === 0) return [];
    // Filtered here rather than in the query: a filter on _id alone is answered from the index everywhere.
    const rooms = await this.ports.models.rooms
      .find({ _id: { $in: [...roomIds] } }, { name: 1, abacAttributes: 1 })
      .lean<RoomDocument[]>()
      .exec();
    return rooms.flatMap((room) =>
      room.abacAttributes?.length
        ? [{ _id: room._id, name: room.name ?? '', abacAttributes: room.abacAttributes }]
        : [],
    );
  }

  async findClaimed(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    return this.claims.held(userIds);
  }

  async findMemberships(
    pairs: readonly { userId: string; roomId: string }[],
  ): Promise<Map<string, StoredSubscription[]>> {
    const byRoom = new Map<string, string[]>();
    for (const { userId, roomId } of pairs) addToGroup(byRoom, roomId, userId);
    const found = new Map<string, StoredSubscription[]>();
    if (byRoom.size === 0) return found;
    // Whole, as the chat server stored them: each is kept for undo beside its revocation event.
    const subscriptions = await this.ports.models.subscriptions.collection
      .find({ $or: [...byRoom].map(([rid, userIds]) => ({ rid, 'u._id': { $in: userIds } })) } as never)
      .toArray();
    for (const subscription of subscriptions as unknown as StoredSubscription[])
      addToGroup(found, membershipKey(subscription.rid, subscription.u._id), subscription);
    return found;
  }

  runClaimed(userIds: readonly string[], work: ClaimedWork, holder?: string): Promise<string[]> {
    return this.claims.run(userIds, work, holder);
  }

  async readUsers(userIds: readonly string[]): Promise<StoredUser[]> {
    const users = await this.ports.models.users
      .find({ _id: { $in: [...userIds] } }, { abacAttributes: 1, __rooms: 1, [OUTBOX_FIELD]: 1 })
      .lean<Pick<UserDocument, '_id' | 'abacAttributes' | '__rooms' | '__abacAuditOutbox'>[]>()
      .exec();
    return users.map((user) => ({
      _id: user._id,
      attributes: user.abacAttributes,
      rooms: user.__rooms ?? [],
      roomsAsStored: user.__rooms,
      outbox: user.__abacAuditOutbox,
    }));
  }

  writeIfUnchanged(writes: readonly ConditionalWrite[], stamp: Date) {
    return writeIfUnchanged(this.ports.models.users, writes, stamp);
  }

  copyAudit(outboxes: Outboxes, requestId: string): Promise<Outboxes> {
    return this.outbox.copy(outboxes, requestId);
  }

  clearOutboxes(copied: Outboxes): Promise<void> {
    return this.outbox.clear(copied);
  }
}
