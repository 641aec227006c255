import { SingleBar } from 'cli-progress';
import type { SyncJob } from '../../lib/jobs/sync-job';
import { formatDuration, RateMeter } from './rate-meter';

/** How a followed run's progress is shown: a live bar on a terminal, plain lines otherwise. */
export interface ProgressDisplay {
  show(job: SyncJob, at: number): void;
  end(): void;
}

const PHASE_WORK = { planning: 'users planned', applying: 'changes applied' } as const;

/** cli-progress's bar, redrawn in place; the bar starts over at each phase. */
export class TerminalProgress implements ProgressDisplay {
  private readonly bar: SingleBar;
  private readonly meter = new RateMeter();
  private phase: string | undefined;
  private started = false;

  constructor(stream: NodeJS.WritableStream) {
    this.bar = new SingleBar({
      stream,
      format: '{phase} [{bar}] {percentage}% | {value}/{total} {work} | {rate}/s | ETA {eta}',
      hideCursor: true,
      clearOnComplete: false,
    });
  }

  show(job: SyncJob, at: number): void {
    // No bar until the phase's total is counted: a bar of 0 of 0 says nothing.
    const { phase } = job;
    if (phase === undefined) return;
    const { total, processed } = job.progress;
    this.meter.add(at, processed);
    const payload = {
      phase: phase.padEnd(8),
      work: PHASE_WORK[phase],
      rate: Math.round(this.meter.perSecond() ?? 0),
      eta: formatDuration(this.meter.secondsLeft(total)),
    };
    if (!this.started || phase !== this.phase) {
      if (this.started) this.bar.stop();
      this.bar.start(Math.max(total, 1), processed, payload);
      this.started = true;
      this.phase = phase;
      return;
    }
    this.bar.setTotal(Math.max(total, 1));
    this.bar.update(processed, payload);
  }

  end(): void {
    if (this.started) this.bar.stop();
  }
}

/** A line per phase change and at most one per `everyMs` (for logs and pipes, where a bar would be noise). */
export class LineProgress implements ProgressDisplay {
  private readonly meter = new RateMeter();
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private phase: string | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly everyMs = 2000,
  ) {}

  show(job: SyncJob, at: number): void {
    if (job.state === 'queued') {
      if (this.phase === undefined) this.stream.write('queued: waiting for a runner\n');
      this.phase = 'queued';
      return;
    }
    const { phase } = job;
    if (phase === undefined) {
      if (this.phase !== 'counting') this.stream.write('counting the users\n');
      this.phase = 'counting';
      return;
    }
    const { total, processed } = job.progress;
    this.meter.add(at, processed);
    if (phase === this.phase && at - this.lastLineAt < this.everyMs) return;
    this.phase = phase;
    this.lastLineAt = at;
    const percent = total > 0 ? Math.floor((processed * 100) / total) : 100;
    const rate = this.meter.perSecond();
    this.stream.write(
      `${phase}: ${processed}/${total} ${PHASE_WORK[phase]} (${percent}%)` +
        (rate === undefined
          ? ''
          : `, ${Math.round(rate)}/s, ETA ${formatDuration(this.meter.secondsLeft(total))}`) +
        '\n',
    );
  }

  end(): void {}
}

/** Shows nothing (--json). */
export const noProgress: ProgressDisplay = { show: () => undefined, end: () => undefined };
