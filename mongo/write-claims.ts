import type { WriteClaimModel } from '../models/write-claim';
import type { Clock } from '../lib/clock';
import { randomId } from '../lib/random-id';
import type { ClaimedWork } from '../lib/sync/sync-store';
import { isDuplicateId, writeErrorsOf } from './write-errors';

/** A claim whose holder has not finished within this long (server time) may be taken by another sync. */
export const CLAIM_TTL_MS = 30_000;
/** How long a sync waits, in total, for users another sync holds before reporting them as conflicts. */
export const CLAIM_WAIT_BUDGET_MS = 3_000;
/** Stale claims of users nobody syncs again are swept at most this often per process. */
export const CLAIM_SWEEP_INTERVAL_MS = 60_000;
const FIRST_WAIT_MS = 25;
const LONGEST_WAIT_MS = 200;

/** Claims older than the TTL by the database server's clock ($$NOW): no host clock decides expiry. */
const STALE = { $expr: { $lt: ['$claimedAt', { $subtract: ['$$NOW', CLAIM_TTL_MS] }] } };

/**
 * One claim document per user, unique by user id, so only one sync (in any process) writes a user at a time.
 * A claim is stamped with the server's time; a claim left by a holder that died or stalled is taken over
 * once it is older than CLAIM_TTL_MS on that same clock. The writes made under a claim are conditional on
 * the value read under it, so even a holder that stalls past the TTL cannot overwrite a newer value.
 */
export class WriteClaims {
  private lastSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly ports: { writeClaims: WriteClaimModel; clock: Clock }) {}

  /**
   * Runs `work` over the users in claimed groups until all are done or the wait budget is spent; resolves
   * with the users that could not be claimed (or kept losing races) within it. Claims already held by
   * `holder` (left by a process that died running for the same holder) are taken as its own.
   */
  async run(userIds: readonly string[], work: ClaimedWork, holder?: string): Promise<string[]> {
    await this.sweepIfDue();
    let pending = [...new Set(userIds)];
    let waited = 0;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        if (waited >= CLAIM_WAIT_BUDGET_MS) break;
        // Jittered so that syncs which collided do not collide again in step.
        const ms = Math.round(
          Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1)) * (0.5 + Math.random()),
        );
        await delay(ms);
        waited += ms;
      }
      const owner = holder ?? randomId();
      const claimed = await this.claim(pending, owner);
      let retry: string[] = [];
      try {
        if (claimed.length > 0) ({ retry } = await work(claimed));
      } finally {
        await this.release(claimed, owner);
      }
      const done = new Set(claimed.filter((userId) => !retry.includes(userId)));
      pending = pending.filter((userId) => !done.has(userId));
    }
    return pending;
  }

  /** The users among these that some holder has claimed (stale claims included: they still wait). */
  async held(userIds: readonly string[]): Promise<Set<string>> {
    // Syncs that write without claims still sweep the claims left behind by holders that died.
    await this.sweepIfDue();
    const claims = await this.ports.writeClaims
      .find({ _id: { $in: [...userIds] } }, { _id: 1 })
      .lean<{ _id: string }[]>()
      .exec();
    return new Set(claims.map((claim) => claim._id));
  }

  /** Claims what it can; users someone else holds are left out (and freed if their claim is stale). */
  private async claim(userIds: string[], owner: string): Promise<string[]> {
    const { writeClaims } = this.ports;
    try {
      await writeClaims.collection.bulkWrite(
        userIds.map((_id) => ({
          updateOne: {
            // A claim held by another owner makes this upsert a duplicate key: that user is not ours.
            filter: { _id: _id as never, owner },
            update: { $currentDate: { claimedAt: true } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      return userIds;
    } catch (error) {
      const failedIndexes = duplicateIndexes(error);
      if (!failedIndexes) {
        await writeClaims.deleteMany({ owner }).exec();
        throw error;
      }
      const held = userIds.filter((_, index) => failedIndexes.has(index));
      await writeClaims.deleteMany({ _id: { $in: held }, ...STALE }).exec();
      return userIds.filter((_, index) => !failedIndexes.has(index));
    }
  }

  private async release(userIds: string[], owner: string): Promise<void> {
    if (userIds.length > 0) await this.ports.writeClaims.deleteMany({ _id: { $in: userIds }, owner }).exec();
  }

  /**
   * Removes stale claims of users nobody syncs again. The host clock only paces the sweep; which claims
   * are stale is the server's decision. (Where TTL indexes work, MongoDB removes them too.)
   */
  private async sweepIfDue(): Promise<void> {
    const now = this.ports.clock.now();
    if (now - this.lastSweepAt < CLAIM_SWEEP_INTERVAL_MS && now >= this.lastSweepAt) return;
    this.lastSweepAt = now;
    await this.ports.writeClaims.deleteMany(STALE).exec();
  }
}

/** The indexes of the upserts refused as duplicates, or undefined when anything else went wrong. */
function duplicateIndexes(error: unknown): Set<number> | undefined {
  const writeErrors = writeErrorsOf(error);
  if (!writeErrors || writeErrors.length === 0) return undefined;
  if (!writeErrors.every(isDuplicateId)) return undefined;
  return new Set(writeErrors.map((writeError) => writeError.index));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
