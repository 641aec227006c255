import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../errors';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Throws the 429 for a decision over its limit (no decision: no limit). */
export function refuseOverLimit(decision: RateDecision | undefined): void {
  if (decision && !decision.allowed) throw new TooManyRequestsError(decision.retryAfterSeconds);
}

export interface RateLimitWindow {
  /** Requests allowed per key in each window. */
  limit: number;
  windowMs: number;
}

const ALLOWED: RateDecision = { allowed: true };

/**
 * Requests per key in fixed windows, counted by rate-limiter-flexible in the store its limiter was made
 * with (MongoDB, shared by every host process, or this process's memory). A window starts at a key's
 * first counted request; a key over its limit is told when its window ends.
 */
export class RateLimit {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    /** Runs before each count (the MongoDB store's paced sweep of ended windows). */
    private readonly beforeTake: () => Promise<void> = async () => undefined,
  ) {}

  /** Whether the key is over its limit, without counting a request. */
  async check(key: string): Promise<RateDecision> {
    const state = await this.limiter.get(key);
    if (!state || state.consumedPoints < this.limiter.points) return ALLOWED;
    return refusal(state);
  }

  /** Counts a request for the key and says whether it is within the limit. */
  async take(key: string): Promise<RateDecision> {
    await this.beforeTake();
    try {
      await this.limiter.consume(key);
      return ALLOWED;
    } catch (outcome) {
      // The library rejects with its result when the key is over the limit, and with an Error on a fault.
      if (outcome instanceof RateLimiterRes) return refusal(outcome);
      throw outcome;
    }
  }
}

function refusal(state: RateLimiterRes): RateDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)) };
}

/** A limit counted in this process's memory: each host process counts on its own. */
export function memoryRateLimit({ limit, windowMs }: RateLimitWindow): RateLimit {
  return new RateLimit(new RateLimiterMemory({ points: limit, duration: windowMs / 1000 }));
}
