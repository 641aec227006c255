// The named-users workloads: A (the product over HTTP), B and C interleaved, round after round; the cost of
// the request limits' stores; W5, the W1 shape on a 5,000-entry directory.
import { performance } from 'node:perf_hooks';
import { parseAttributeMap } from '../lib/sync/attribute-mapping';
import type { PhaseDurations } from '../lib/sync/phase-timer';
import { MAP } from './data';
import { seedBenchData } from './setup';
import { openSession } from './feed';
import { startHost, type BenchHost } from './host-client';
import { batchedFloor, perUserAlgorithm, type BenchContext } from './variants';
import { WORKLOADS, type Workload } from './workloads';
import { CpuMeter, type CpuByProcess } from './process-cpu';
import { median, round1 } from './statistics';

// The host's V8 and the MongoDB-wire server's JVM keep compiling A's code paths for its first few dozen
// requests (A's own filters and updates, which B and C never send): measured rounds start once they are warm.
export const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP ?? 40);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
export const SMALL_DIRECTORY_SIZE = 5_000;

export interface Samples {
  description: string;
  A: number[];
  B: number[];
  C: number[];
  Cread: number[];
  phases: PhaseDurations[];
  /** Per A sample: how long the host held the request (arrival to the answer's serialisation). */
  hostMs: number[];
  /** Baselines in the host, measured in the same rounds: E0 (an empty route) and E1 (E0 + the login read). */
  E0: number[];
  E1: number[];
  /** C+: E1 around C's reads and writes, the writes shaped as A's, in the host (from A's starting state). */
  Cplus: number[];
  /** Per sample of each variant: the CPU each process spent on it (A's includes its deferred work). */
  cpu: Record<'A' | 'B' | 'C', CpuByProcess[]>;
}

/** The servers' processes, whose CPU is counted per sample (no MongoDB one when MONGODB_URI is set). */
export interface ServerPids {
  slapd: number;
  mongo?: number;
}

/** The CPU of the host (its main thread and its other threads apart), the servers and the benchmark. */
export function benchCpuMeter(host: BenchHost, servers: ServerPids): CpuMeter {
  return new CpuMeter(
    {
      host: host.pid,
      ...(servers.mongo === undefined ? {} : { mongo: servers.mongo }),
      slapd: servers.slapd,
      bench: process.pid,
    },
    ['host'],
  );
}

/** Each workload's A, B and C, interleaved and in rotating order, the state reset (untimed) before each. */
export async function measureWorkloads(
  host: BenchHost,
  context: BenchContext,
  workloads: readonly Workload[],
  log: (message: string) => void,
  servers: ServerPids,
): Promise<Record<string, Samples>> {
  const results: Record<string, Samples> = {};
  const cpuMeter = benchCpuMeter(host, servers);
  for (const workload of workloads) {
    log(`${workload.name}: ${workload.description}`);
    const samples: Samples = {
      description: workload.description,
      A: [],
      B: [],
      C: [],
      Cread: [],
      phases: [],
      hostMs: [],
      E0: [],
      E1: [],
      Cplus: [],
      cpu: { A: [], B: [], C: [] },
    };
    let answerBytes = 0;
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
      const keep = round >= WARMUP_ROUNDS;
      // The order rotates so no variant always runs on a just-warmed server.
      const order = (['A', 'B', 'C'] as const).map((_, i, all) => all[(i + round) % 3]!);
      for (const variant of order) {
        await workload.reset(context.models);
        const cpuSpent = cpuMeter.start();
        if (variant === 'A') {
          const { ms, phases, hostMs, answerBytes: bytes } = await host.sync(workload);
          answerBytes = bytes;
          if (keep) {
            samples.A.push(ms);
            samples.phases.push(phases);
            samples.hostMs.push(hostMs);
          }
        } else if (variant === 'B') {
          const started = performance.now();
          await perUserAlgorithm(context, workload.identifiers);
          if (keep) samples.B.push(performance.now() - started);
        } else {
          const started = performance.now();
          const { readMs } = await batchedFloor(context, workload.identifiers);
          if (keep) {
            samples.C.push(performance.now() - started);
            samples.Cread.push(readMs);
          }
        }
        if (keep) samples.cpu[variant].push(cpuSpent());
      }
      // The baselines after the variants, on the same warm connection, with A's last answer's size.
      const e0 = await host.baseline('e0', workload, answerBytes);
      const e1 = await host.baseline('e1', workload, answerBytes);
      // C+ writes what A writes: from the same starting state.
      await workload.reset(context.models);
      const cplus = await host.baseline('cplus', workload, answerBytes);
      if (keep) {
        samples.E0.push(e0);
        samples.E1.push(e1);
        samples.Cplus.push(cplus);
      }
    }
    results[workload.name] = samples;
  }
  return results;
}

/** Limits no request reaches: every request still pays for counting. */
const UNREACHED = {
  syncsPerMinute: 1_000_000,
  failedAuthPerMinute: 1_000_000,
  failedAuthPerAddressPerMinute: 1_000_000,
};

/**
 * What the request limits cost a request: W4 (a re-sync, the cheapest request) through three hosts on the
 * same database, limits off, counted in MongoDB, counted in memory; interleaved, medians.
 */
export async function measureLimitCost(
  mongoUri: string,
  dbName: string,
  models: BenchContext['models'],
  log: (message: string) => void,
) {
  const workload = WORKLOADS.find((candidate) => candidate.name === 'W4')!;
  log(`Request limits: ${workload.name} with limits off, counted in MongoDB, counted in memory`);
  const hosts = {
    off: await startHost(mongoUri, dbName, false),
    mongo: await startHost(mongoUri, dbName, { ...UNREACHED, store: 'mongo' }),
    memory: await startHost(mongoUri, dbName, { ...UNREACHED, store: 'memory' }),
  };
  const samples = { off: [] as number[], mongo: [] as number[], memory: [] as number[] };
  try {
    const names = ['off', 'mongo', 'memory'] as const;
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
      for (const name of names.map((_, i) => names[(i + round) % 3]!)) {
        await workload.reset(models);
        const { ms } = await hosts[name].sync(workload);
        if (round >= WARMUP_ROUNDS) samples[name].push(ms);
      }
    }
  } finally {
    for (const host of Object.values(hosts)) host.stop();
  }
  const off = median(samples.off);
  const mongo = median(samples.mongo);
  const memory = median(samples.memory);
  return {
    workload: workload.name,
    medianMs: { off: round1(off), mongo: round1(mongo), memory: round1(memory) },
    addedMs: { mongo: round1(mongo - off), memory: round1(memory - off) },
  };
}

/** W5: W1's shape (100 usernames gaining values) on a directory and a user base of 5,000. */
export async function measureSmallDirectory(
  mongoUri: string,
  mongoPid: number | undefined,
  log: (message: string) => void,
) {
  log(`W5: a second directory and database of ${SMALL_DIRECTORY_SIZE.toLocaleString('en')}...`);
  const data = await seedBenchData(mongoUri, `abac_bench_small_${process.pid}`, SMALL_DIRECTORY_SIZE, log);
  let host: BenchHost | undefined;
  try {
    host = await startHost(mongoUri, data.connection.name);
    const session = await openSession(data.slapd);
    try {
      const context: BenchContext = {
        models: data.models,
        session,
        mapping: parseAttributeMap(JSON.stringify(MAP)),
        baseDN: data.slapd.info().baseDN,
      };
      const w1 = WORKLOADS.find((candidate) => candidate.name === 'W1')!;
      const w5 = {
        ...w1,
        name: 'W5',
        description: `W1 on a ${SMALL_DIRECTORY_SIZE.toLocaleString('en')}-entry directory`,
      };
      return await measureWorkloads(host, context, [w5], log, { slapd: data.slapd.pid, mongo: mongoPid });
    } finally {
      await session.close();
    }
  } finally {
    host?.stop();
    await data.close();
  }
}
