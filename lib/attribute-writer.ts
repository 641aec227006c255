import type { AbacAttribute, UserDocument, UserModel } from '../models/user';
import { sameAttributes } from './attribute-mapping';
import type { Clock } from './clock';
import { mapWithConcurrency } from './concurrency';

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

/** Conditional writes per user before it is reported as a conflict. */
export const WRITE_ATTEMPTS = 3;

/** Conditional writes in flight at once. */
export const WRITE_CONCURRENCY = 16;

/**
 * Writes attributes with a condition on the value that was read, so concurrent syncs never lose an update.
 * Each user is its own updateOne (sent concurrently): its matchedCount says exactly whether this sync
 * wrote it, so the audit trail names each write once. A user whose value changed in between is re-read
 * and retried against the fresh value.
 */
export async function writeAttributes(users: UserModel, writes: readonly PlannedWrite[], clock: Clock) {
  const outcomes = await mapWithConcurrency(writes, WRITE_CONCURRENCY, (write) =>
    writeOne(users, write, clock),
  );
  return new Map<string, WriteOutcome>(outcomes.map((outcome) => [outcome.userId, outcome]));
}

async function writeOne(users: UserModel, write: PlannedWrite, clock: Clock): Promise<WriteOutcome> {
  let expected = write.expected;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt += 1) {
    const result = await users.updateOne(
      guard(write.userId, expected),
      change(write.next, new Date(clock.now())),
    );
    if (result.matchedCount === 1) return { userId: write.userId, kind: 'written', before: expected ?? [] };
    const current = await users
      .findById(write.userId, { abacAttributes: 1 })
      .lean<Pick<UserDocument, '_id' | 'abacAttributes'>>()
      .exec();
    if (!current) break;
    if (sameAttributes(current.abacAttributes ?? [], write.next))
      return { userId: write.userId, kind: 'alreadyCurrent' };
    expected = current.abacAttributes;
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
