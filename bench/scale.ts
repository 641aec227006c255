// The scale part (BENCH_SCALE=10000,100000,1000000; on demand, never in CI): F1, the nightly run where
// nothing changed, on directories of each size, each with its own slapd, database and host, to see whether
// users/s holds and what the host holds over its idle memory as the directory grows.
import { performance } from 'node:perf_hooks';
import { startHost } from './host-client';
import { CpuMeter } from './process-cpu';
import { seedBenchData } from './setup';

const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 2);

/** The sizes asked for in BENCH_SCALE (comma-separated user counts); none: the part does not run. */
export function scaleSizes(value = process.env.BENCH_SCALE): number[] {
  if (!value) return [];
  const sizes = value.split(',').map((size) => Number(size.trim()));
  if (sizes.some((size) => !Number.isInteger(size) || size < 3000))
    throw new Error(`BENCH_SCALE: "${value}" is not a list of user counts of 3,000 or more`);
  return sizes;
}

export async function measureScale(
  mongoUri: string,
  mongoPid: number | undefined,
  sizes: readonly number[],
  log: (message: string) => void,
) {
  const points = [];
  for (const size of sizes) {
    const data = await seedBenchData(mongoUri, `abac_bench_scale_${size}_${process.pid}`, size, log);
    const host = await startHost(mongoUri, data.connection.name);
    try {
      const users = await data.models.users.countDocuments({ ldap: true, active: true });
      const meter = new CpuMeter({
        host: host.pid,
        slapd: data.slapd.pid,
        ...(mongoPid === undefined ? {} : { mongo: mongoPid }),
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const idleRssKiB = await host.rss();
      const runs: { ms: number; cpu: Record<string, number> }[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        log(`Scale: F1 over ${users.toLocaleString('en')} users, round ${round + 1}/${ROUNDS}`);
        await data.models.syncJobs.collection.deleteMany({});
        const spent = meter.start();
        const started = performance.now();
        await host.fullRun();
        runs.push({ ms: performance.now() - started, cpu: spent() });
      }
      const best = runs.reduce((fastest, run) => (run.ms < fastest.ms ? run : fastest));
      points.push({
        users,
        usersPerSecond: Math.round((users * 1000) / best.ms),
        ms: Math.round(best.ms),
        hostRssOverIdleMiB: Math.round(((await host.maxRss()) - idleRssKiB) / 1024),
        cpuMs: Object.fromEntries(Object.entries(best.cpu).map(([name, ms]) => [name, Math.round(ms)])),
      });
    } finally {
      host.stop();
      await data.close();
    }
  }
  const rates = points.map((point) => point.usersPerSecond);
  return {
    rounds: ROUNDS,
    points,
    /** How far the slowest size's users/s falls below the fastest's, in percent. */
    usersPerSecondSpreadPercent: Math.round((1 - Math.min(...rates) / Math.max(...rates)) * 1000) / 10,
  };
}
