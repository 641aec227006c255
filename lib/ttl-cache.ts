import type { Clock } from './clock';

/**
 * One value loaded on demand and kept for ttlMs; concurrent callers share one load, and a failed load is
 * not cached. Staleness is bounded by ttlMs.
 */
export class TtlValue<T> {
  private value: { loadedAt: number; value: T } | undefined;
  private pending: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  get(): Promise<T> {
    const cached = this.value;
    if (cached && this.clock.now() - cached.loadedAt < this.ttlMs) return Promise.resolve(cached.value);
    this.pending ??= this.load().then(
      (value) => {
        this.value = { loadedAt: this.clock.now(), value };
        this.pending = undefined;
        return value;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  invalidate(): void {
    this.value = undefined;
  }
}
