import type { Clock } from '../clock';
import { TooManyRequestsError } from '../errors';

export interface RateLimit {
  /** Requests allowed per key in each window. */
  limit: number;
  windowMs: number;
  /** Keys tracked at most; past it the oldest windows are dropped (default 50,000). */
  maxKeys?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Throws the 429 for a decision over its limit (no decision: no limit). */
export function refuseOverLimit(decision: RateDecision | undefined): void {
  if (decision && !decision.allowed) throw new TooManyRequestsError(decision.retryAfterSeconds);
}

const DEFAULT_MAX_KEYS = 50_000;

/**
 * Fixed-window counters per key, in this process's memory (each host process limits on its own). The
 * window starts at a key's first counted request; a key over its limit is told when the window ends.
 * Windows are kept in the order they started (a new window is re-inserted at the end), so expired ones are
 * dropped from the front without scanning the rest, and memory never exceeds maxKeys windows.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();
  private readonly maxKeys: number;

  constructor(
    private readonly rate: RateLimit,
    private readonly clock: Clock,
  ) {
    this.maxKeys = rate.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.windows.size;
  }

  /** Whether the key is over its limit, without counting a request. */
  check(key: string): RateDecision {
    const window = this.current(key);
    if (!window || window.count < this.rate.limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: this.secondsLeft(window.startedAt) };
  }

  /** Counts a request for the key and says whether it is within the limit. */
  take(key: string): RateDecision {
    const now = this.clock.now();
    this.dropExpired(now);
    let window = this.current(key);
    if (!window) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
      for (const oldest of this.windows.keys()) {
        if (this.windows.size <= this.maxKeys) break;
        this.windows.delete(oldest);
      }
    }
    window.count += 1;
    if (window.count <= this.rate.limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: this.secondsLeft(window.startedAt) };
  }

  private current(key: string) {
    const window = this.windows.get(key);
    if (window && this.clock.now() - window.startedAt < this.rate.windowMs) return window;
    this.windows.delete(key);
    return undefined;
  }

  private secondsLeft(startedAt: number): number {
    return Math.max(1, Math.ceil((startedAt + this.rate.windowMs - this.clock.now()) / 1000));
  }

  private dropExpired(now: number) {
    for (const [key, window] of this.windows) {
      if (now - window.startedAt < this.rate.windowMs) return;
      this.windows.delete(key);
    }
  }
}
