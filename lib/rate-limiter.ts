import type { Clock } from './clock';

export interface RateLimit {
  /** Requests allowed per key in each window. */
  limit: number;
  windowMs: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Keys tracked before expired windows are swept (bounds memory under a flood of distinct keys). */
const SWEEP_ABOVE = 10_000;

/**
 * Fixed-window counters per key, in this process's memory (each host process limits on its own). The
 * window starts at a key's first counted request; a key over its limit is told when the window ends.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    private readonly rate: RateLimit,
    private readonly clock: Clock,
  ) {}

  /** Whether the key is over its limit, without counting a request. */
  check(key: string): RateDecision {
    const window = this.current(key);
    if (!window || window.count < this.rate.limit) return { allowed: true };
    return { allowed: false, retryAfterSeconds: this.secondsLeft(window.startedAt) };
  }

  /** Counts a request for the key and says whether it is within the limit. */
  take(key: string): RateDecision {
    const now = this.clock.now();
    if (this.windows.size > SWEEP_ABOVE) this.sweep(now);
    const window = this.current(key) ?? { startedAt: now, count: 0 };
    window.count += 1;
    this.windows.set(key, window);
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

  private sweep(now: number) {
    for (const [key, window] of this.windows) {
      if (now - window.startedAt >= this.rate.windowMs) this.windows.delete(key);
    }
  }
}
