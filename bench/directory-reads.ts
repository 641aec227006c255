// The directory reads part (BENCH_PARTS=reads, on demand): F1 and F2 through a host that looks the users up
// in batches and through one that reads the whole subtree into a map, in alternating order, a fresh host
// for every run (only one runner may take the queue's jobs): the map's time over the lookups', paired per
// round, with each process's CPU and the host's RSS over its idle.
import type { Models } from '../models';
import { SCENARIOS } from './full-runs';
import { startHost } from './host-client';
import { CpuMeter, meanCpu, type CpuByProcess } from './process-cpu';
import type { ServerPids } from './request-workloads';
import { quantile, spread } from './statistics';

const ROUNDS = Number(process.env.BENCH_READS_ROUNDS ?? 5);
const MODES = ['lookups', 'subtree'] as const;
type Mode = (typeof MODES)[number];

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
      const byMode = (samples[scenario.name] ??= { lookups: [], subtree: [] });
      const order = round % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        log(`Directory reads, ${scenario.name} round ${round + 1}/${ROUNDS}: ${mode}`);
        await scenario.reset(models);
        await models.syncJobs.collection.deleteMany({});
        const host = await startHost(mongoUri, dbName, false, { BENCH_DIRECTORY_READ: mode });
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
