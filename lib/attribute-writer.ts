import type { AbacAttribute, UserDocument, UserModel } from '../models/user';
import { sameAttributes } from './attribute-mapping';
import type { Clock } from './clock';

export interface PlannedWrite {
  userId: string;
  /** What the sync read; the write only applies while the user still holds exactly this. */
  expected: AbacAttribute[] | undefined;
  /** Empty means the attributes are removed ($unset). */
  next: AbacAttribute[];
}

export type WriteOutcome =
  /** `before` is the value the write replaced (it differs from `expected` after a retried conflict). */
  | { userId: string; kind: 'written'; before: AbacAttribute[] }
  /** Someone else already stored the same attributes: nothing to write. */
  | { userId: string; kind: 'alreadyCurrent' }
  | { userId: string; kind: 'conflict' };

export const WRITE_ATTEMPTS = 3;

/**
 * Writes attributes with a condition on the value that was read, so concurrent syncs never lose an update.
 * All writes go in one bulkWrite; only when some did not apply are those users re-read and retried
 * one by one against their fresh value.
 */
export async function writeAttributes(users: UserModel, writes: readonly PlannedWrite[], clock: Clock) {
  const outcomes = new Map<string, WriteOutcome>();
  if (writes.length === 0) return outcomes;
  const stamp = new Date(clock.now());
  const result = await users.bulkWrite(
    writes.map((write) => ({
      updateOne: { filter: guard(write.userId, write.expected), update: change(write.next, stamp) },
    })),
    { ordered: false },
  );
  if (result.matchedCount === writes.length) {
    for (const write of writes)
      outcomes.set(write.userId, { userId: write.userId, kind: 'written', before: write.expected ?? [] });
    return outcomes;
  }

  const current = await readCurrent(
    users,
    writes.map((write) => write.userId),
  );
  for (const write of writes) {
    const now = current.get(write.userId);
    const landed =
      now &&
      sameAttributes(now.abacAttributes ?? [], write.next) &&
      now._updatedAt?.getTime() === stamp.getTime();
    if (landed)
      outcomes.set(write.userId, { userId: write.userId, kind: 'written', before: write.expected ?? [] });
    else outcomes.set(write.userId, await retry(users, write, now, clock));
  }
  return outcomes;
}

async function retry(
  users: UserModel,
  write: PlannedWrite,
  known: UserDocument | undefined,
  clock: Clock,
): Promise<WriteOutcome> {
  let current = known;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
    if (!current) return { userId: write.userId, kind: 'conflict' };
    const stored = current.abacAttributes;
    if (sameAttributes(stored ?? [], write.next)) return { userId: write.userId, kind: 'alreadyCurrent' };
    const result = await users.updateOne(
      guard(write.userId, stored),
      change(write.next, new Date(clock.now())),
    );
    if (result.matchedCount === 1) return { userId: write.userId, kind: 'written', before: stored ?? [] };
    current = (await readCurrent(users, [write.userId])).get(write.userId);
  }
  return { userId: write.userId, kind: 'conflict' };
}

function guard(userId: string, expected: AbacAttribute[] | undefined) {
  return { _id: userId, abacAttributes: expected === undefined ? { $exists: false } : expected };
}

function change(next: AbacAttribute[], stamp: Date) {
  return next.length === 0
    ? { $unset: { abacAttributes: 1 }, $set: { _updatedAt: stamp } }
    : { $set: { abacAttributes: next, _updatedAt: stamp } };
}

async function readCurrent(users: UserModel, ids: string[]) {
  const documents = await users
    .find({ _id: { $in: ids } }, { abacAttributes: 1, _updatedAt: 1 })
    .lean<UserDocument[]>()
    .exec();
  return new Map(documents.map((document) => [document._id, document]));
}
