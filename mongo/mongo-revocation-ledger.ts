import type { RevocationEntry, RevocationLedger } from '../lib/jobs/revocation-ledger';
import type { RevocationEntryModel } from '../models/revocation-entry';
import { randomId } from '../lib/random-id';

/** User ids per document: far below MongoDB's 16 MB however long the ids. */
const USERS_PER_PART = 10_000;

/** The guard's window in one collection that every host process shares. */
export class MongoRevocationLedger implements RevocationLedger {
  constructor(private readonly entries: RevocationEntryModel) {}

  async enter({ id, userIds, at }: RevocationEntry): Promise<void> {
    const generation = randomId();
    const parts = [];
    for (let start = 0; start === 0 || start < userIds.length; start += USERS_PER_PART)
      parts.push({
        _id: `${id}#${generation}#${parts.length}`,
        entry: id,
        generation,
        userIds: userIds.slice(start, start + USERS_PER_PART),
        at,
      });
    // The new generation lands before the old goes: a reader in between counts each user once anyway.
    await this.entries.insertMany(parts);
    await this.entries.deleteMany({ entry: id, generation: { $ne: generation } }).exec();
  }

  async usersSince(since: Date, exceptId?: string): Promise<Set<string>> {
    const parts = await this.entries
      .find(
        { at: { $gte: since }, ...(exceptId !== undefined ? { entry: { $ne: exceptId } } : {}) },
        { userIds: 1 },
      )
      .lean()
      .exec();
    const users = new Set<string>();
    for (const part of parts) for (const userId of part.userIds) users.add(userId);
    return users;
  }

  async remove(id: string): Promise<void> {
    await this.entries.deleteMany({ entry: id }).exec();
  }

  async forgetBefore(before: Date): Promise<void> {
    await this.entries.deleteMany({ at: { $lt: before } }).exec();
  }
}
