import type { MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from './clock';
import { mapWithConcurrency } from './concurrency';
import { randomId } from './random-id';

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
 * Deletes each subscription on its own (its deletedCount says whether this call removed the member, so
 * concurrent syncs never decrement usersCount or post the message twice), then applies the follow-up
 * writes in one bulk operation per collection.
 */
export class MongoRoomMemberRemover implements RoomMemberRemover {
  constructor(private readonly ports: MongoRoomMemberRemoverPorts) {}

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length === 0) return [];
    const { users, rooms, subscriptions, messages, clock } = this.ports;
    const deleted = await mapWithConcurrency(removals, this.ports.concurrency, async (removal) => {
      const result = await subscriptions
        .deleteOne({ rid: removal.room._id, 'u._id': removal.user._id })
        .exec();
      return result.deletedCount === 1;
    });
    const removed = removals.filter((_, index) => deleted[index]);

    const now = new Date(clock.now());
    // __rooms is pulled for every planned removal: it is idempotent and repairs a stale membership list.
    await users.bulkWrite(
      removals.map(({ user, room }) => ({
        updateOne: { filter: { _id: user._id }, update: { $pull: { __rooms: room._id } } },
      })),
      { ordered: false },
    );
    if (removed.length === 0) return removed;

    const leavingByRoom = new Map<string, number>();
    for (const { room } of removed) leavingByRoom.set(room._id, (leavingByRoom.get(room._id) ?? 0) + 1);
    await rooms.bulkWrite(
      [...leavingByRoom].map(([roomId, count]) => ({
        updateOne: {
          filter: { _id: roomId },
          update: { $inc: { usersCount: -count }, $set: { _updatedAt: now } },
        },
      })),
      { ordered: false },
    );
    await messages.insertMany(
      removed.map(({ user, room }) => ({
        _id: randomId(),
        rid: room._id,
        t: REMOVED_FROM_ROOM_MESSAGE,
        msg: user.username,
        u: { _id: user._id, username: user.username },
        ts: now,
        _updatedAt: now,
      })),
      { ordered: false },
    );
    return removed;
  }
}
