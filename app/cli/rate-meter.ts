/**
 * Users per second and time left, from progress samples over a sliding window: the rate of the last
 * `windowMs`, so a run that slows down (a slow directory, a busy database) shows it soon.
 */
export class RateMeter {
  private samples: Array<{ at: number; processed: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  /** A new reading; a phase starting over (processed going down) starts the window over. */
  add(at: number, processed: number): void {
    const last = this.samples.at(-1);
    if (last && processed < last.processed) this.samples = [];
    this.samples.push({ at, processed });
    while (this.samples.length > 2 && at - this.samples[1]!.at >= this.windowMs) this.samples.shift();
  }

  /** Items per second over the window; undefined until two readings are apart in time. */
  perSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return undefined;
    return ((last.processed - first.processed) * 1000) / (last.at - first.at);
  }

  /** Seconds until `total` at the current rate; undefined while the rate is unknown or zero. */
  secondsLeft(total: number): number | undefined {
    const rate = this.perSecond();
    const last = this.samples.at(-1);
    if (!rate || !last) return undefined;
    return Math.max(0, (total - last.processed) / rate);
  }
}

/** 75 s → "1m15s"; unknown → "?". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
