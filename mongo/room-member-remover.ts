import { createHash } from 'node:crypto';
import type { MessageDocument, MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from '../lib/clock';
import type { RoomMemberRemover, RoomRemoval } from '../lib/sync/room-member-remover';
import { insertOnce } from './insert-once';

export const REMOVED_FROM_ROOM_MESSAGE = 'abac-removed-user-from-room';
/** How long a room keeps the record of a subscription it counted out (longer than any stalled sync). */
const EVICTION_RECORD_MS = 24 * 60 * 60 * 1000;

export interface MongoRoomMemberRemoverPorts {
  users: UserModel;
  rooms: RoomModel;
  subscriptions: SubscriptionModel;
  messages: MessageModel;
  clock: Clock;
}

/**
 * Removes members in an order that a fault at any point leaves repairable by running the same removals
 * again, each effect happening once:
 * 1. usersCount is decremented once per subscription, guarded by a record of that subscription on the room
 *    (`__abacEvictions`), and the system message is inserted with an id derived from the subscription;
 * 2. the subscriptions are deleted;
 * 3. the rooms are pulled from the users' `__rooms` last, so a user whose eviction was cut short still
 *    lists the room and the next sync finds it.
 * The sync writes the revocation audit event in the user's outbox before calling this (see AuditLog).
 */
export class MongoRoomMemberRemover implements RoomMemberRemover {
  constructor(private readonly ports: MongoRoomMemberRemoverPorts) {}

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length === 0) return [];
    const { users, rooms, subscriptions, messages, clock } = this.ports;
    const now = new Date(clock.now());
    const ending = removals.filter((removal) => removal.subscriptionIds.length > 0);

    // The driver's bulk calls: every value is built here, and Mongoose's per-operation casting is not free.
    const [, inserted] = await Promise.all([
      ending.length === 0
        ? undefined
        : rooms.collection.bulkWrite(roomUpdates(ending, now), { ordered: false }),
      insertOnce(
        messages,
        ending.flatMap((removal) => removalMessages(removal, now)),
      ),
    ]);
    if (inserted.failed.length > 0) throw inserted.error;

    const subscriptionIds = ending.flatMap((removal) => removal.subscriptionIds);
    if (subscriptionIds.length > 0) await subscriptions.deleteMany({ _id: { $in: subscriptionIds } }).exec();

    await users.collection.bulkWrite(
      removals.map(({ user, room }) => ({
        updateOne: { filter: { _id: user._id as never }, update: { $pull: { __rooms: room._id } } as never },
      })),
      { ordered: false },
    );
    return ending;
  }
}

/** One guarded decrement per subscription, and the removal of records older than a day, per room. */
function roomUpdates(removals: readonly RoomRemoval[], now: Date) {
  const decrements = removals.flatMap(({ room, subscriptionIds }) =>
    subscriptionIds.map((s) => ({
      updateOne: {
        filter: { _id: room._id as never, '__abacEvictions.s': { $ne: s } },
        update: {
          $inc: { usersCount: -1 },
          $push: { __abacEvictions: { s, at: now } },
          $set: { _updatedAt: now },
        } as never,
      },
    })),
  );
  const expired = new Date(now.getTime() - EVICTION_RECORD_MS);
  const cleanups = [...new Set(removals.map(({ room }) => room._id))].map((roomId) => ({
    updateOne: {
      filter: { _id: roomId as never, '__abacEvictions.at': { $lt: expired } },
      update: { $pull: { __abacEvictions: { at: { $lt: expired } } } } as never,
    },
  }));
  return [...decrements, ...cleanups];
}

function removalMessages({ user, room, subscriptionIds }: RoomRemoval, now: Date): MessageDocument[] {
  return subscriptionIds.map((subscriptionId) => ({
    _id: removalMessageId(subscriptionId),
    rid: room._id,
    t: REMOVED_FROM_ROOM_MESSAGE,
    msg: user.username,
    u: { _id: user._id, username: user.username },
    ts: now,
    _updatedAt: now,
  }));
}

/** The message announcing the end of one subscription: the same id however often the step runs. */
export function removalMessageId(subscriptionId: string): string {
  return `abacRemoved${createHash('sha256').update(subscriptionId).digest('hex').slice(0, 24)}`;
}
