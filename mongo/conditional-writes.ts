import type { AbacAttribute, UserDocument, UserModel } from '../models/user';
import type { ConditionalWrite, WriteOutcome } from '../lib/sync/sync-store';

export const OUTBOX_FIELD = '__abacAuditOutbox';

/**
 * Writes each user's attributes and audit outbox in one update, conditioned on the attributes read under
 * the claim (or, for a write made without it, on the attributes and rooms first read and an empty outbox),
 * so a writer that changed the user since (another tool, or a sync that stalled past its claim) is never
 * overwritten. One bulkWrite keyed by _id; when fewer matched than were sent, the users are re-read
 * and those whose outbox lacks this write's events are the ones that lost.
 */
export async function writeIfUnchanged(
  users: UserModel,
  writes: readonly ConditionalWrite[],
  stamp: Date,
): Promise<WriteOutcome> {
  if (writes.length === 0) return { applied: [], lost: [] };
  // The driver's bulkWrite, not the model's: the values were built by the mapping, and Mongoose's
  // per-operation casting doubles the cost of this call.
  const result = await users.collection.bulkWrite(
    writes.map((write) => ({
      updateOne: { filter: condition(write) as never, update: change(write, stamp) as never },
    })),
    { ordered: false },
  );
  if (result.matchedCount === writes.length)
    return { applied: writes.map((write) => write.userId), lost: [] };
  return sortOutLostWrites(users, writes);
}

async function sortOutLostWrites(
  users: UserModel,
  writes: readonly ConditionalWrite[],
): Promise<WriteOutcome> {
  const current = new Map(
    (
      await users
        .find({ _id: { $in: writes.map((write) => write.userId) } }, { abacAttributes: 1, [OUTBOX_FIELD]: 1 })
        .lean<Pick<UserDocument, '_id' | 'abacAttributes' | '__abacAuditOutbox'>[]>()
        .exec()
    ).map((user) => [user._id, user]),
  );
  const outcome: WriteOutcome = { applied: [], lost: [] };
  for (const write of writes) {
    const user = current.get(write.userId);
    const eventIds = Object.keys(write.outbox);
    const landed =
      user !== undefined &&
      (eventIds.length > 0
        ? eventIds.every((id) => user.__abacAuditOutbox?.[id] !== undefined)
        : sameStoredValue(user.abacAttributes, write.next ?? write.before));
    (landed ? outcome.applied : outcome.lost).push(write.userId);
  }
  return outcome;
}

function condition(write: ConditionalWrite) {
  const attributes = { _id: write.userId, abacAttributes: storedAs(write.before) };
  if (!write.unclaimed) return attributes;
  // An outbox that was emptied is left as {}: no events waiting either way.
  return { ...attributes, __rooms: storedAs(write.unclaimed.rooms), [OUTBOX_FIELD]: { $in: [null, {}] } };
}

/** A field holding exactly this value; undefined: the field is absent. */
function storedAs(value: unknown) {
  return value === undefined ? { $exists: false } : value;
}

function change(write: ConditionalWrite, stamp: Date) {
  const outbox = Object.fromEntries(
    Object.entries(write.outbox).map(([id, event]) => [`${OUTBOX_FIELD}.${id}`, event]),
  );
  if (write.next === undefined) return { $set: outbox };
  if (write.next.length === 0)
    return { $unset: { abacAttributes: 1 as const }, $set: { ...outbox, _updatedAt: stamp } };
  return { $set: { ...outbox, abacAttributes: write.next, _updatedAt: stamp } };
}

function sameStoredValue(stored: AbacAttribute[] | undefined, expected: AbacAttribute[] | undefined) {
  if (expected === undefined || expected.length === 0) return stored === undefined || stored.length === 0;
  return JSON.stringify(stored) === JSON.stringify(expected);
}
