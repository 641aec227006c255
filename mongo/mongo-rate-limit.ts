import { RateLimiterMongo } from 'rate-limiter-flexible';
import type { RateLimitModel } from '../models/rate-limit';
import { RateLimit, type RateLimitWindow } from '../lib/access/rate-limit';

/** Ended windows are swept at most this often per process (TTL indexes do it where the server has them). */
export const RATE_LIMIT_SWEEP_INTERVAL_MS = 60_000;

/**
 * Limits counted in one MongoDB collection that every host process shares, through rate-limiter-flexible's
 * MongoDB store on the host's connection. Its indexes come from the model (ensureIndexes), not the library.
 */
export class MongoRateLimits {
  // The library compares windows with Date.now(): the sweep uses the same clock.
  private lastSweepAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly rateLimits: RateLimitModel) {}

  /** A limit named `name` (keys of different limits never meet). */
  limit(name: string, window: RateLimitWindow): RateLimit {
    const limiter = new RateLimiterMongo({
      // The library asks its client for a collection by name: this one is the model's, on the host's
      // connection (so it waits for the connection like every other model).
      storeClient: { collection: () => this.rateLimits.collection },
      tableName: this.rateLimits.collection.collectionName,
      keyPrefix: name,
      points: window.limit,
      duration: window.windowMs / 1000,
      disableIndexesCreation: true,
    });
    return new RateLimit(limiter, () => this.sweepIfDue());
  }

  /** Removes windows that have ended; the store ignores them anyway, so this only bounds the collection. */
  async sweep(): Promise<number> {
    const { deletedCount } = await this.rateLimits.deleteMany({ expire: { $lt: new Date() } }).exec();
    return deletedCount;
  }

  private async sweepIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweepAt < RATE_LIMIT_SWEEP_INTERVAL_MS && now >= this.lastSweepAt) return;
    this.lastSweepAt = now;
    await this.sweep();
  }
}
