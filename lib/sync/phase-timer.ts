import { performance } from 'node:perf_hooks';

/**
 * Where a sync's time goes: waiting on the settings, MongoDB's reads, the directory, the writes, the eviction
 * and the audit copy; `compute` is the rest of the sync, its own work in between (matching entries, mapping,
 * planning, the report).
 */
export const SYNC_PHASES = [
  'settings',
  'mongoReads',
  'ldap',
  'writes',
  'eviction',
  'audit',
  'compute',
] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];
export type PhaseDurations = Record<SyncPhase, number>;

/**
 * Wall-clock milliseconds spent in each phase of one sync (monotonic clock, not the injected one). A phase
 * timed inside another is not counted twice: the outer phase's time excludes it.
 */
export class PhaseTimer {
  private readonly open: Array<{ nested: number }> = [];

  readonly durations: PhaseDurations = {
    settings: 0,
    mongoReads: 0,
    ldap: 0,
    writes: 0,
    eviction: 0,
    audit: 0,
    compute: 0,
  };

  async time<T>(phase: SyncPhase, work: () => Promise<T>): Promise<T> {
    const outer = this.open.at(-1);
    const frame = { nested: 0 };
    this.open.push(frame);
    const started = performance.now();
    try {
      return await work();
    } finally {
      const elapsed = performance.now() - started;
      this.open.splice(this.open.indexOf(frame), 1);
      this.durations[phase] += elapsed - frame.nested;
      if (outer) outer.nested += elapsed;
    }
  }

  /** Adds the time another timer measured (work timed apart, e.g. concurrently, and merged here). */
  add(other: PhaseTimer): void {
    for (const phase of SYNC_PHASES) this.durations[phase] += other.durations[phase];
  }

  rounded(): PhaseDurations {
    const copy = { ...this.durations };
    for (const phase of SYNC_PHASES) copy[phase] = Math.round(copy[phase] * 100) / 100;
    return copy;
  }
}
