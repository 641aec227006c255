// The CPU time of the benchmark's processes (the host, the MongoDB-wire server, slapd, the benchmark
// itself), so a variant's wall time can be set against the work every process did for it.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * A process's CPU time in ms: the sum over its live threads of the time Linux's scheduler ran them
 * (/proc/<pid>/task/<tid>/schedstat, in ns). Threads that exited are no longer counted, so it is meant for
 * differences over a short window of long-lived threads (the JVM's, node's, slapd's).
 */
export function processCpuMs(pid: number): { mainThread: number; otherThreads: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number(tid) === pid) main += ns;
      else others += ns;
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return { mainThread: main / 1e6, otherThreads: others / 1e6 };
}

/** A process's CPU time in ms, all its live threads together (see processCpuMs). */
export function totalCpuMs(pid: number): number {
  const { mainThread, otherThreads } = processCpuMs(pid);
  return mainThread + otherThreads;
}

export type CpuByProcess = Record<string, number>;

/**
 * CPU spent by named processes between `start` and the call that `start` returns. A process named in
 * `split` is counted as two: its main thread, and its other threads (for Node.js, V8's garbage collection
 * and compilation, and libuv's pool).
 */
export class CpuMeter {
  constructor(
    private readonly pids: Readonly<Record<string, number>>,
    private readonly split: readonly string[] = [],
  ) {}

  start(): () => CpuByProcess {
    const before = this.read();
    return () => {
      const after = this.read();
      return Object.fromEntries(Object.keys(after).map((name) => [name, after[name]! - before[name]!]));
    };
  }

  private read(): CpuByProcess {
    return Object.fromEntries(
      Object.entries(this.pids).flatMap(([name, pid]) => {
        if (!this.split.includes(name)) return [[name, totalCpuMs(pid)]];
        const { mainThread, otherThreads } = processCpuMs(pid);
        return [
          [name, mainThread],
          [`${name} threads`, otherThreads],
        ];
      }),
    );
  }
}

/** The mean per sample of each process's CPU and of their total, rounded to 0.1 ms. */
export function meanCpu(samples: readonly CpuByProcess[]): CpuByProcess {
  if (samples.length === 0) return {};
  const names = Object.keys(samples[0]!);
  const mean = (pick: (sample: CpuByProcess) => number) =>
    Math.round((samples.reduce((sum, sample) => sum + pick(sample), 0) / samples.length) * 10) / 10;
  return {
    ...Object.fromEntries(names.map((name) => [name, mean((sample) => sample[name]!)])),
    total: mean((sample) => names.reduce((sum, name) => sum + sample[name]!, 0)),
  };
}
