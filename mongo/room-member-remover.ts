import { createHash } from 'node:crypto';
import type { EvictionRecordModel } from '../models/eviction-record';
import type { MessageDocument, MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from '../lib/clock';
import type { RoomMemberRemover, RoomRemoval } from '../lib/sync/room-member-remover';
import { insertOnce } from './insert-once';
import { RoomCounts, type MembershipCount } from './room-counts';

export const REMOVED_FROM_ROOM_MESSAGE = 'abac-removed-user-from-room';
/** Records older than a day are swept at most this often per process (servers without TTL indexes). */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export interface MongoRoomMemberRemoverPorts {
  users: UserModel;
  rooms: RoomModel;
  subscriptions: SubscriptionModel;
  messages: MessageModel;
  evictionRecords: EvictionRecordModel;
  clock: Clock;
}

/**
 * Removes members in an order that a fault at any point leaves repairable by running the same removals
 * again, each effect happening once, without transactions:
 * 1. each eviction gets a record in abac_sync_evictions and its system message, both inserted once by id
 *    (both keyed by the eviction's key);
 * 2. usersCount is decremented once per eviction (RoomCounts);
 * 3. the subscriptions are deleted;
 * 4. the rooms are pulled from the users' `__rooms` last, so a user whose eviction was cut short still
 *    lists the room and the next sync finds it.
 * Runs for one user never overlap (the sync's write claims). The sync writes the revocation audit event in
 * the user's outbox before calling this (see AuditLog).
 */
export class MongoRoomMemberRemover implements RoomMemberRemover {
  private lastSweepAt = Number.NEGATIVE_INFINITY;
  private readonly counts: RoomCounts;

  constructor(private readonly ports: MongoRoomMemberRemoverPorts) {
    this.counts = new RoomCounts({ rooms: ports.rooms, records: ports.evictionRecords });
  }

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length === 0) return [];
    const { users, subscriptions, messages, clock } = this.ports;
    const now = new Date(clock.now());
    const ending = removals.filter((removal) => removal.subscriptionIds.length > 0);
    const evictions: MembershipCount[] = ending.flatMap(({ room, subscriptionIds, evictionKeys }) =>
      subscriptionIds.map((s, index) => ({
        id: evictionRecordId(room._id, evictionKeys[index] ?? s),
        rid: room._id,
        s,
      })),
    );

    if (evictions.length > 0) {
      const [inserted] = await Promise.all([
        insertOnce(
          messages,
          ending.flatMap((removal) => removalMessages(removal, now)),
        ),
        this.counts.record(evictions, now),
      ]);
      if (inserted.failed.length > 0) throw inserted.error;
      await this.counts.count(evictions, -1, now);
    }

    const subscriptionIds = ending.flatMap((removal) => removal.subscriptionIds);
    if (subscriptionIds.length > 0) await subscriptions.deleteMany({ _id: { $in: subscriptionIds } }).exec();

    await users.collection.bulkWrite(
      removals.map(({ user, room }) => ({
        updateOne: { filter: { _id: user._id as never }, update: { $pull: { __rooms: room._id } } as never },
      })),
      { ordered: false },
    );
    await this.sweepIfDue(now);
    return ending;
  }

  private async sweepIfDue(now: Date): Promise<void> {
    if (now.getTime() - this.lastSweepAt < SWEEP_INTERVAL_MS) return;
    this.lastSweepAt = now.getTime();
    await this.counts.sweep(now);
  }
}

/** `<roomId>:<eviction key>`: for a subscription's first eviction, `<roomId>:<subscriptionId>` as before. */
function evictionRecordId(roomId: string, key: string): string {
  return `${roomId}:${key}`;
}

function removalMessages(
  { user, room, subscriptionIds, evictionKeys }: RoomRemoval,
  now: Date,
): MessageDocument[] {
  return subscriptionIds.map((subscriptionId, index) => ({
    _id: removalMessageId(evictionKeys[index] ?? subscriptionId),
    rid: room._id,
    t: REMOVED_FROM_ROOM_MESSAGE,
    msg: user.username,
    u: { _id: user._id, username: user.username },
    ts: now,
    _updatedAt: now,
  }));
}

/** The message announcing one eviction: the same id however often the step runs. */
export function removalMessageId(evictionKey: string): string {
  return `abacRemoved${createHash('sha256').update(evictionKey).digest('hex').slice(0, 24)}`;
}
