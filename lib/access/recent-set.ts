import type { Clock } from '../clock';

/**
 * Keys remembered for a while, in this process's memory, at most `maxKeys` of them (the oldest go first).
 * Kept in insertion order, so expired keys are dropped from the front without scanning the rest.
 */
export class RecentSet {
  private readonly addedAt = new Map<string, number>();

  constructor(
    private readonly options: { ttlMs: number; maxKeys: number },
    private readonly clock: Clock,
  ) {}

  add(key: string): void {
    const now = this.clock.now();
    this.addedAt.delete(key);
    this.addedAt.set(key, now);
    for (const [oldest, at] of this.addedAt) {
      if (this.addedAt.size <= this.options.maxKeys && now - at < this.options.ttlMs) break;
      this.addedAt.delete(oldest);
    }
  }

  has(key: string): boolean {
    const at = this.addedAt.get(key);
    return at !== undefined && this.clock.now() - at < this.options.ttlMs;
  }
}
