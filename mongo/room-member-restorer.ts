import { createHash } from 'node:crypto';
import type { EvictionRecordModel } from '../models/eviction-record';
import type { MessageDocument, MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from '../lib/clock';
import { RESTORED_FIELD } from '../lib/sync/room-member-remover';
import type { RoomMemberRestorer, RoomRestoration } from '../lib/sync/room-member-restorer';
import { membershipKey } from '../lib/sync/sync-store';
import { insertOnce } from './insert-once';
import { RoomCounts, type MembershipCount } from './room-counts';
import { DUPLICATE_KEY, isDuplicateId, writeErrorsOf } from './write-errors';

/** Rocket.Chat's system message for a user added to a room. */
export const ADDED_TO_ROOM_MESSAGE = 'au';

export interface MongoRoomMemberRestorerPorts {
  users: UserModel;
  rooms: RoomModel;
  subscriptions: SubscriptionModel;
  messages: MessageModel;
  evictionRecords: EvictionRecordModel;
  clock: Clock;
}

/**
 * Gives memberships back in an order that a fault at any point leaves repairable by running the same
 * restorations again, each effect happening once, without transactions (the mirror of the remover):
 * 1. the subscription is inserted as it was, by its own id (a duplicate id: put back before);
 * 2. the room's "user added" message, inserted once by the restore's id;
 * 3. usersCount is incremented once per restore (RoomCounts);
 * 4. the room is added to the user's `__rooms` last, so a restore cut short is still begun in the user's
 *    outbox, and the next sync of that user completes it.
 */
export class MongoRoomMemberRestorer implements RoomMemberRestorer {
  private readonly counts: RoomCounts;

  constructor(private readonly ports: MongoRoomMemberRestorerPorts) {
    this.counts = new RoomCounts({ rooms: ports.rooms, records: ports.evictionRecords });
  }

  async restore(restorations: readonly RoomRestoration[]): Promise<RoomRestoration[]> {
    if (restorations.length === 0) return [];
    const { users, rooms, messages, clock } = this.ports;
    const now = new Date(clock.now());
    const roomIds = [...new Set(restorations.map(({ room }) => room._id))];
    const existing = new Set(
      (
        await rooms
          .find({ _id: { $in: roomIds } }, { _id: 1 })
          .lean()
          .exec()
      ).map(({ _id }) => _id),
    );
    const inRooms = restorations.filter(({ room }) => existing.has(room._id));
    await this.insertSubscriptions(inRooms);
    // Only a subscription that holds this restore's id is this restore's to complete: another restore's, or
    // a membership joined again since, is not.
    const held = await this.ports.subscriptions.collection
      .find({ _id: { $in: inRooms.map(({ subscription }) => subscription._id) } } as never, {
        projection: { [RESTORED_FIELD]: 1 },
      })
      .toArray();
    const restoredBy = new Map(held.map((found) => [String(found._id), found[RESTORED_FIELD]]));
    const restored = inRooms.filter(
      ({ subscription, restoreId }) => restoredBy.get(subscription._id) === restoreId,
    );
    if (restored.length === 0) return [];

    const inserted = await insertOnce(
      messages,
      restored.map((restoration) => addedMessage(restoration, now)),
    );
    if (inserted.failed.length > 0) throw inserted.error;
    const counts: MembershipCount[] = restored.map(({ room, subscription, restoreId }) => ({
      id: `${room._id}:restored:${restoreId}`,
      rid: room._id,
      s: subscription._id,
    }));
    await this.counts.record(counts, now);
    await this.counts.count(counts, 1, now);
    await users.collection.bulkWrite(
      restored.map(({ user, room }) => ({
        updateOne: {
          filter: { _id: user._id as never },
          update: { $addToSet: { __rooms: room._id } } as never,
        },
      })),
      { ordered: false },
    );
    return restored;
  }

  /**
   * Step 1: each subscription, unless the user holds another subscription to that room now (joined again
   * since: looked for, and refused by the room-and-user index where the host's data let it be built).
   */
  private async insertSubscriptions(restorations: readonly RoomRestoration[]): Promise<void> {
    const documents = restorations.map(({ subscription, restoreId }) => ({
      ...subscription,
      [RESTORED_FIELD]: restoreId,
    }));
    const joinedAgain = new Set<string>();
    if (documents.length === 0) return;
    const held = await this.ports.subscriptions.collection
      .find({ $or: restorations.map(({ room, user }) => ({ rid: room._id, 'u._id': user._id })) } as never, {
        projection: { rid: 1, 'u._id': 1 },
      })
      .toArray();
    const heldIds = new Map(held.map((found) => [membershipKey(found.rid, found.u._id), String(found._id)]));
    for (const { room, user, subscription } of restorations) {
      const other = heldIds.get(membershipKey(room._id, user._id));
      if (other !== undefined && other !== subscription._id) joinedAgain.add(subscription._id);
    }
    const toInsert = documents.filter(({ _id }) => !joinedAgain.has(_id));
    if (toInsert.length === 0) return;
    try {
      await this.ports.subscriptions.collection.insertMany(toInsert as never[], { ordered: false });
    } catch (error) {
      const writeErrors = writeErrorsOf(error);
      if (!writeErrors) throw error;
      for (const writeError of writeErrors) {
        if (isDuplicateId(writeError)) continue;
        if (writeError.code !== DUPLICATE_KEY) throw error;
      }
    }
  }
}

function addedMessage({ user, room, restoreId, actor }: RoomRestoration, now: Date): MessageDocument {
  return {
    _id: `abacRestored${createHash('sha256').update(restoreId).digest('hex').slice(0, 24)}`,
    rid: room._id,
    t: ADDED_TO_ROOM_MESSAGE,
    msg: user.username,
    u: { _id: actor._id, username: actor.username },
    ts: now,
    _updatedAt: now,
  };
}
