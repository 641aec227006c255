import type { MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionDocument, SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from './clock';
import { mapWithConcurrency } from './concurrency';
import { randomId } from './random-id';
import { addToGroup } from './group';

export interface RoomRemoval {
  user: { _id: string; username: string };
  room: { _id: string; name: string };
}

/** Takes users out of rooms. A host with its own room service supplies its own implementation. */
export interface RoomMemberRemover {
  /** Resolves with the removals it carried out (a member already gone is not removed twice). */
  remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]>;
}

export const REMOVED_FROM_ROOM_MESSAGE = 'abac-removed-user-from-room';

export interface MongoRoomMemberRemoverPorts {
  users: UserModel;
  rooms: RoomModel;
  subscriptions: SubscriptionModel;
  messages: MessageModel;
  clock: Clock;
  concurrency: number;
}

/**
 * Finds the members' subscriptions in one query, deletes them in one deleteMany per room (its deletedCount is
 * the exact decrement for usersCount), then applies the follow-up writes in one bulk operation per
 * collection. Overlapping syncs of this module never remove the same member twice: the sync holds the user's
 * write claim while it evicts (see attribute-writer). Should a writer outside the module remove one of the
 * same members between the query and the delete, the decrement still counts only what this call deleted.
 */
export class MongoRoomMemberRemover implements RoomMemberRemover {
  constructor(private readonly ports: MongoRoomMemberRemoverPorts) {}

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length === 0) return [];
    const { users, rooms, subscriptions, messages, clock } = this.ports;
    const membersByRoom = new Map<string, string[]>();
    for (const { user, room } of removals) addToGroup(membersByRoom, room._id, user._id);
    const found = await subscriptions
      .find(
        { $or: [...membersByRoom].map(([rid, userIds]) => ({ rid, 'u._id': { $in: userIds } })) },
        { rid: 1, 'u._id': 1 },
      )
      .lean<Pick<SubscriptionDocument, '_id' | 'rid' | 'u'>[]>()
      .exec();
    const subscriptionIdsByRoom = new Map<string, string[]>();
    for (const { _id, rid } of found) addToGroup(subscriptionIdsByRoom, rid, _id);
    const deletedByRoom = new Map(
      await mapWithConcurrency([...subscriptionIdsByRoom], this.ports.concurrency, async ([rid, ids]) => {
        const { deletedCount } = await subscriptions.deleteMany({ _id: { $in: ids } }).exec();
        return [rid, deletedCount] as const;
      }),
    );
    const members = new Set(found.map(({ rid, u }) => membership(rid, u._id)));
    const removed = removals.filter(({ user, room }) => members.has(membership(room._id, user._id)));

    const now = new Date(clock.now());
    // The driver's bulk calls: every value is built here, and Mongoose's per-operation casting is not free.
    await Promise.all([
      // __rooms is pulled for every planned removal: it is idempotent and repairs a stale membership list.
      users.collection.bulkWrite(
        removals.map(({ user, room }) => ({
          updateOne: {
            filter: { _id: user._id as never },
            update: { $pull: { __rooms: room._id } } as never,
          },
        })),
        { ordered: false },
      ),
      decrementUsersCount(rooms, deletedByRoom, now),
      removed.length === 0
        ? Promise.resolve()
        : messages.insertMany(
            removed.map(({ user, room }) => ({
              _id: randomId(),
              rid: room._id,
              t: REMOVED_FROM_ROOM_MESSAGE,
              msg: user.username,
              u: { _id: user._id, username: user.username },
              ts: now,
              _updatedAt: now,
            })),
            { ordered: false, lean: true },
          ),
    ]);
    return removed;
  }
}

function membership(roomId: string, userId: string) {
  return `${roomId}\u0000${userId}`;
}

async function decrementUsersCount(rooms: RoomModel, deletedByRoom: Map<string, number>, now: Date) {
  const operations = [...deletedByRoom]
    .filter(([, count]) => count > 0)
    .map(([roomId, count]) => ({
      updateOne: {
        filter: { _id: roomId as never },
        update: { $inc: { usersCount: -count }, $set: { _updatedAt: now } },
      },
    }));
  if (operations.length > 0) await rooms.collection.bulkWrite(operations, { ordered: false });
}
