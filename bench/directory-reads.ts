// The directory reads part (BENCH_PARTS=reads, on demand): F1 and F2 through a host that looks the users up
// in batches, one that reads the whole subtree into a map in a worker thread, and one that keeps that map
// in its own thread, in rotating order, a fresh host for every run (only one runner may take the queue's
// jobs): the ratios paired per round, with each process's CPU and the host's RSS over its idle.
import type { Models } from '../models';
import { SCENARIOS } from './full-runs';
import { startHost } from './host-client';
import { CpuMeter, meanCpu, type CpuByProcess } from './process-cpu';
import type { ServerPids } from './request-workloads';
import { quantile, spread } from './statistics';

const ROUNDS = Number(process.env.BENCH_READS_ROUNDS ?? 5);
/** lookups; the subtree map in its worker thread; the same map kept in the host's thread. */
const MODES = ['lookups', 'subtree', 'subtreeInThread'] as const;
type Mode = (typeof MODES)[number];
const HOST_ENV: Record<Mode, Record<string, string>> = {
  lookups: { BENCH_DIRECTORY_READ: 'lookups' },
  subtree: { BENCH_DIRECTORY_READ: 'subtree' },
  subtreeInThread: { BENCH_DIRECTORY_READ: 'subtree', BENCH_MAP_IN_THREAD: '1' },
};

interface Sample {
  ms: number;
  cpu: CpuByProcess;
  rssOverIdleMiB: number;
}

export async function measureDirectoryReads(
  mongoUri: string,
  dbName: string,
  models: Models,
  servers: ServerPids,
  log: (message: string) => void,
) {
  const samples: Record<string, Record<Mode, Sample[]>> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const scenario of SCENARIOS) {
      const byMode = (samples[scenario.name] ??= { lookups: [], subtree: [], subtreeInThread: [] });
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
      for (const mode of order) {
        log(`Directory reads, ${scenario.name} round ${round + 1}/${ROUNDS}: ${mode}`);
        await scenario.reset(models);
        await models.syncJobs.collection.deleteMany({});
        const host = await startHost(mongoUri, dbName, false, HOST_ENV[mode]);
        try {
          const meter = new CpuMeter(
            {
              host: host.pid,
              slapd: servers.slapd,
              ...(servers.mongo === undefined ? {} : { mongo: servers.mongo }),
            },
            ['host'],
          );
          await new Promise((resolve) => setTimeout(resolve, 500));
          const idleKiB = await host.rss();
          const spent = meter.start();
          const run = await host.fullRun();
          byMode[mode].push({
            ms: run.ms,
            cpu: spent(),
            rssOverIdleMiB: Math.round(((await host.maxRss()) - idleKiB) / 1024),
          });
        } finally {
          host.stop();
        }
      }
    }
  }
  return {
    rounds: ROUNDS,
    scenarios: Object.fromEntries(
      Object.entries(samples).map(([name, byMode]) => [
        name,
        {
          medianMs: Object.fromEntries(
            MODES.map((mode) => [
              mode,
              Math.round(
                quantile(
                  byMode[mode].map((s) => s.ms),
                  0.5,
                ),
              ),
            ]),
          ),
          /** The subtree map's time over the lookups', paired per round (median and IQR). */
          pairedRatioSubtreeOverLookups: spread(byMode.subtree.map((s, i) => s.ms / byMode.lookups[i]!.ms)),
          /** The map in its worker thread over the map in the host's thread, paired per round. */
          pairedRatioWorkerOverThread: spread(
            byMode.subtree.map((s, i) => s.ms / byMode.subtreeInThread[i]!.ms),
          ),
          cpuMsMean: Object.fromEntries(MODES.map((mode) => [mode, meanCpu(byMode[mode].map((s) => s.cpu))])),
          hostRssOverIdleMiBMedian: Object.fromEntries(
            MODES.map((mode) => [
              mode,
              quantile(
                byMode[mode].map((s) => s.rssOverIdleMiB),
                0.5,
              ),
            ]),
          ),
        },
      ]),
    ),
  };
}
