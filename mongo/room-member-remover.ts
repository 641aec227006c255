import { createHash } from 'node:crypto';
import type { EvictionRecordModel } from '../models/eviction-record';
import { EVICTION_RECORD_SECONDS } from '../models/eviction-record';
import type { MessageDocument, MessageModel } from '../models/message';
import type { RoomModel } from '../models/room';
import type { SubscriptionModel } from '../models/subscription';
import type { UserModel } from '../models/user';
import type { Clock } from '../lib/clock';
import type { RoomMemberRemover, RoomRemoval } from '../lib/sync/room-member-remover';
import { addToGroup } from '../lib/group';
import { randomId } from '../lib/random-id';
import { insertOnce } from './insert-once';

export const REMOVED_FROM_ROOM_MESSAGE = 'abac-removed-user-from-room';
const EVICTION_RECORD_MS = EVICTION_RECORD_SECONDS * 1000;
/** How long a sync keeps its turn to count an eviction out before another may take the turn over. */
const COUNTING_TURN_MS = 60_000;
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

/** One subscription ended in one room, as its record and the room's mark name it. */
interface Eviction {
  id: string;
  rid: string;
  s: string;
}

/**
 * Removes members in an order that a fault at any point leaves repairable by running the same removals
 * again, each effect happening once, without transactions:
 * 1. each eviction gets a record in abac_sync_evictions (`counted: false`) and its system message, both
 *    inserted once by id;
 * 2. for each record not counted, usersCount is decremented in the same update that marks the room with
 *    the eviction's id (`__abacCounting`), and only when the room is not marked already;
 * 3. the records are set `counted`, then the marks are pulled from the rooms: a mark outlives its
 *    decrement until the record says so, so no run decrements twice;
 * 4. the subscriptions are deleted;
 * 5. the rooms are pulled from the users' `__rooms` last, so a user whose eviction was cut short still
 *    lists the room and the next sync finds it.
 * Runs for one user never overlap (the sync's write claims). The sync writes the revocation audit event in
 * the user's outbox before calling this (see AuditLog).
 */
export class MongoRoomMemberRemover implements RoomMemberRemover {
  private lastSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ports: MongoRoomMemberRemoverPorts) {}

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length === 0) return [];
    const { users, subscriptions, messages, clock } = this.ports;
    const now = new Date(clock.now());
    const ending = removals.filter((removal) => removal.subscriptionIds.length > 0);
    const evictions = ending.flatMap(({ room, subscriptionIds }) =>
      subscriptionIds.map((s) => ({ id: `${room._id}:${s}`, rid: room._id, s })),
    );

    if (evictions.length > 0) {
      const [inserted] = await Promise.all([
        insertOnce(
          messages,
          ending.flatMap((removal) => removalMessages(removal, now)),
        ),
        this.record(evictions, now),
      ]);
      if (inserted.failed.length > 0) throw inserted.error;
      await this.countOut(evictions, now);
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

  /** Step 1: a record per eviction, inserted once (a run again finds the one it left). */
  private async record(evictions: readonly Eviction[], now: Date): Promise<void> {
    await this.ports.evictionRecords.collection.bulkWrite(
      evictions.map(({ id, rid, s }) => ({
        updateOne: {
          filter: { _id: id as never },
          update: { $setOnInsert: { rid, s, at: now, counted: false } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Steps 2 and 3: the decrements of the evictions not yet counted, each once. */
  private async countOut(evictions: readonly Eviction[], now: Date): Promise<void> {
    const { rooms, evictionRecords } = this.ports;
    // Who counts each eviction out is decided on its record, one writer at a time: two syncs completing
    // the same eviction at once (a repair racing the first attempt) never both decrement. A counter that
    // died keeps its turn for COUNTING_TURN_MS, then another takes it over (the room's mark then says
    // whether the decrement was made).
    const token = randomId();
    await evictionRecords.collection.bulkWrite(
      evictions.map(({ id }) => ({
        updateOne: {
          filter: {
            _id: id as never,
            counted: false,
            $or: [
              { countingBy: { $exists: false } },
              { countingAt: { $lt: new Date(now.getTime() - COUNTING_TURN_MS) } },
            ],
          },
          update: { $set: { countingBy: token, countingAt: now } },
        },
      })),
      { ordered: false },
    );
    const mine = new Set(
      (
        await evictionRecords
          .find({ _id: { $in: evictions.map(({ id }) => id) }, countingBy: token }, { _id: 1 })
          .lean()
          .exec()
      ).map(({ _id }) => _id),
    );
    const uncounted = evictions.filter(({ id }) => mine.has(id));
    try {
      await this.decrement(uncounted, token, now);
    } catch (error) {
      // A turn that failed is given back at once (the marks say which decrements were made).
      await evictionRecords
        .updateMany(
          { _id: { $in: [...mine] }, countingBy: token, counted: false },
          { $unset: { countingBy: 1, countingAt: 1 } },
        )
        .catch(() => undefined);
      throw error;
    }
    // Only marks whose records say counted are pulled: a mark is what a later turn reads.
    const countedIds = new Set(
      (
        await evictionRecords
          .find({ _id: { $in: evictions.map(({ id }) => id) }, counted: true }, { _id: 1 })
          .lean()
          .exec()
      ).map(({ _id }) => _id),
    );
    const expired = new Date(now.getTime() - EVICTION_RECORD_MS);
    await rooms.collection.bulkWrite(
      [...evictionsByRoom(evictions)].map(([rid, ofRoom]) => ({
        updateOne: {
          filter: { _id: rid as never },
          update: {
            $pull: {
              __abacCounting: { $in: ofRoom.map(({ id }) => id).filter((id) => countedIds.has(id)) },
              __abacEvictions: { at: { $lt: expired } },
            },
          } as never,
        },
      })),
      { ordered: false },
    );
    // Emptied lists go, so a room carries nothing of its evictions between them.
    const roomIds = [...new Set(evictions.map(({ rid }) => rid))] as never[];
    await rooms.collection.bulkWrite(
      (['__abacCounting', '__abacEvictions'] as const).map((field) => ({
        updateMany: {
          filter: { _id: { $in: roomIds }, [field]: { $size: 0 } },
          update: { $unset: { [field]: 1 } },
        },
      })),
      { ordered: false },
    );
  }

  /**
   * The decrements of the evictions whose turn this sync holds, each with its mark on the room in the same
   * update (never when the room is marked already), then the records set counted.
   */
  private async decrement(evictions: readonly Eviction[], token: string, now: Date): Promise<void> {
    if (evictions.length === 0) return;
    const { rooms, evictionRecords } = this.ports;
    await rooms.collection.bulkWrite(
      evictions.map(({ id, rid, s }) => ({
        updateOne: {
          // Not marked by an earlier turn, nor counted by a version that recorded evictions in the room.
          filter: { _id: rid as never, __abacCounting: { $ne: id }, '__abacEvictions.s': { $ne: s } },
          update: {
            $inc: { usersCount: -1 },
            $push: { __abacCounting: id },
            $set: { _updatedAt: now },
          } as never,
        },
      })),
      { ordered: false },
    );
    await evictionRecords.updateMany(
      { _id: { $in: evictions.map(({ id }) => id) }, countingBy: token },
      { $set: { counted: true } },
    );
  }

  private async sweepIfDue(now: Date): Promise<void> {
    if (now.getTime() - this.lastSweepAt < SWEEP_INTERVAL_MS) return;
    this.lastSweepAt = now.getTime();
    await this.ports.evictionRecords.deleteMany({
      at: { $lt: new Date(now.getTime() - EVICTION_RECORD_MS) },
    });
  }
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

function evictionsByRoom(evictions: readonly Eviction[]): Map<string, Eviction[]> {
  const byRoom = new Map<string, Eviction[]>();
  for (const eviction of evictions) addToGroup(byRoom, eviction.rid, eviction);
  return byRoom;
}
