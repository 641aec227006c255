import type { EvictionRecordModel } from '../models/eviction-record';
import { EVICTION_RECORD_SECONDS } from '../models/eviction-record';
import type { RoomModel } from '../models/room';
import { addToGroup } from '../lib/group';
import { randomId } from '../lib/random-id';

const RECORD_MS = EVICTION_RECORD_SECONDS * 1000;
/** How long a sync keeps its turn to count a change before another may take the turn over. */
const COUNTING_TURN_MS = 60_000;

/** One membership ended or begun in one room, as its record and the room's mark name it. */
export interface MembershipCount {
  /** The record's id, the same however often the step runs. */
  id: string;
  rid: string;
  /** The subscription (an ended one's, for rooms that recorded evictions in an earlier version). */
  s: string;
}

/**
 * Changes rooms' usersCount by one per membership, exactly once however often it runs and however many
 * syncs run it at once, without transactions:
 * 1. each change gets a record in abac_sync_evictions (`counted: false`), inserted once by id;
 * 2. who counts a record is decided on it, one writer at a time (a counter that died keeps its turn for
 *    COUNTING_TURN_MS); the count is changed in the same update that marks the room with the record's id
 *    (`__abacCounting`), and only when the room is not marked already;
 * 3. the records are set `counted`, then the marks are pulled: a mark outlives its change until the record
 *    says so, so no run counts twice.
 */
export class RoomCounts {
  constructor(private readonly ports: { rooms: RoomModel; records: EvictionRecordModel }) {}

  /** Step 1: a record per change, inserted once (a run again finds the one it left). */
  async record(changes: readonly MembershipCount[], now: Date): Promise<void> {
    if (changes.length === 0) return;
    await this.ports.records.collection.bulkWrite(
      changes.map(({ id, rid, s }) => ({
        updateOne: {
          filter: { _id: id as never },
          update: { $setOnInsert: { rid, s, at: now, counted: false } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Steps 2 and 3: `delta` (−1 for an ended membership, +1 for one begun) for each change not yet counted. */
  async count(changes: readonly MembershipCount[], delta: -1 | 1, now: Date): Promise<void> {
    if (changes.length === 0) return;
    const { rooms, records } = this.ports;
    const token = randomId();
    await records.collection.bulkWrite(
      changes.map(({ id }) => ({
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
        await records
          .find({ _id: { $in: changes.map(({ id }) => id) }, countingBy: token }, { _id: 1 })
          .lean()
          .exec()
      ).map(({ _id }) => _id),
    );
    try {
      await this.change(
        changes.filter(({ id }) => mine.has(id)),
        delta,
        token,
        now,
      );
    } catch (error) {
      // A turn that failed is given back at once (the marks say which changes were made).
      await records
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
        await records
          .find({ _id: { $in: changes.map(({ id }) => id) }, counted: true }, { _id: 1 })
          .lean()
          .exec()
      ).map(({ _id }) => _id),
    );
    const expired = new Date(now.getTime() - RECORD_MS);
    await rooms.collection.bulkWrite(
      [...byRoom(changes)].map(([rid, ofRoom]) => ({
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
    // Emptied lists go, so a room carries nothing of its counts between them.
    const roomIds = [...new Set(changes.map(({ rid }) => rid))] as never[];
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

  /** Removes records older than a day (servers without TTL indexes); resolves with how many. */
  async sweep(now: Date): Promise<void> {
    await this.ports.records.deleteMany({ at: { $lt: new Date(now.getTime() - RECORD_MS) } });
  }

  /**
   * The count changes whose turn this sync holds, each with its mark on the room in the same update (never
   * when the room is marked already), then the records set counted.
   */
  private async change(changes: readonly MembershipCount[], delta: -1 | 1, token: string, now: Date) {
    if (changes.length === 0) return;
    const { rooms, records } = this.ports;
    await rooms.collection.bulkWrite(
      changes.map(({ id, rid, s }) => ({
        updateOne: {
          // Not marked by an earlier turn, nor (an ended membership) counted by a version that recorded
          // evictions in the room.
          filter: {
            _id: rid as never,
            __abacCounting: { $ne: id },
            ...(delta < 0 ? { '__abacEvictions.s': { $ne: s } } : {}),
          },
          update: {
            $inc: { usersCount: delta },
            $push: { __abacCounting: id },
            $set: { _updatedAt: now },
          } as never,
        },
      })),
      { ordered: false },
    );
    await records.updateMany(
      { _id: { $in: changes.map(({ id }) => id) }, countingBy: token },
      { $set: { counted: true } },
    );
  }
}

function byRoom(changes: readonly MembershipCount[]): Map<string, MembershipCount[]> {
  const grouped = new Map<string, MembershipCount[]>();
  for (const change of changes) addToGroup(grouped, change.rid, change);
  return grouped;
}
