import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths';

const run = promisify(execFile);

// `npm run bench` is how performance is claimed, so it must keep working: one round of every workload on a
// 3,000-entry directory, the result written to a temporary file (never over bench/results/latest.json).
describe('npm run bench, in miniature', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs A, B and C on every workload and on full runs, the cost of the limits, the feed figures, and writes the report', async () => {
    dir = await mkdtemp(join(tmpdir(), 'abac-bench-'));
    const output = join(dir, 'latest.json');
    await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'main.ts')], {
      env: {
        ...process.env,
        BENCH_SIZE: '3000',
        BENCH_WARMUP: '0',
        BENCH_ROUNDS: '1',
        BENCH_OUTPUT: output,
        BENCH_FULL_ROUNDS: '1',
        BENCH_PARTS: 'clients,requests,limits,w5,remote,full,reads,feed',
        BENCH_READS_ROUNDS: '1',
        BENCH_CLIENT_ROUNDS: '1',
        BENCH_FEED_CHANGES: '5',
        BENCH_FEED_IDLE_SECONDS: '5',
      },
    });
    const report = JSON.parse(await readFile(output, 'utf8')) as {
      directory: { entries: number };
      remote: { W1: { pairedRatioBoverA: { median: number } } };
      ldapClients: {
        entries: number;
        pairedRatios: { wall: { median: number } };
        ldapts: { clientCpuMicrosecondsPerEntry: number };
      };
      limits: { medianMs: { off: number; mongo: number; memory: number } };
      workloads: Record<
        string,
        {
          ratioBoverA: number;
          ratioAoverC: number;
          phasesMedianMs: object;
          pairedRatios: { BoverA: { median: number; iqr: number[] }; AoverCplus: { median: number } };
          baselines: { E0: { median: number }; E1: { median: number }; Cplus: { median: number } };
        }
      >;
      directoryReads: {
        scenarios: Record<string, { pairedRatioSubtreeOverLookups: { median: number } }>;
      };
      baselines: Record<'E0' | 'E1' | 'Cplus', Record<string, { median: number }>>;
      fullRuns: {
        users: number;
        bUsersPerSecond: number;
        hostRssOverIdleMiB: number;
        scenarios: Record<
          string,
          {
            usersPerSecond: number;
            ratioOverC: number;
            ratioOverCprime: number;
            pairedRatioOverC: { median: number };
            ratioOverB: number;
          }
        >;
      };
      feed: {
        latencyMs: { changes: number; p50: number; p95: number };
        idle: { polls: number; hostCpuMsPerPoll: number; searchMs: { median: number } };
      };
    };
    expect(report.directory.entries).toBe(3000);
    expect(Object.keys(report.workloads)).toEqual(['W1', 'W2', 'W3', 'W4', 'W5']);
    // W1 again with the directory behind a proxy that delays it by about 1 ms.
    expect(report.remote.W1.pairedRatioBoverA.median).toBeGreaterThan(0);
    // Both LDAP clients read the same subtree: every person, and the ratio between them.
    expect(report.ldapClients.entries).toBeGreaterThanOrEqual(3000);
    expect(report.ldapClients.pairedRatios.wall.median).toBeGreaterThan(0);
    expect(report.ldapClients.ldapts.clientCpuMicrosecondsPerEntry).toBeGreaterThan(0);
    expect(report.limits.medianMs.mongo).toBeGreaterThan(0);
    expect(report.limits.medianMs.memory).toBeGreaterThan(0);
    for (const workload of Object.values(report.workloads)) {
      expect(workload.ratioBoverA).toBeGreaterThan(0);
      expect(workload.ratioAoverC).toBeGreaterThan(0);
      expect(Object.keys(workload.phasesMedianMs)).toContain('httpAndPipeline');
      // Paired per round, with the spread; the baselines in the same host, E1 doing more than E0.
      expect(workload.pairedRatios.BoverA.iqr).toHaveLength(2);
      expect(workload.baselines.E0.median).toBeGreaterThan(0);
      expect(workload.baselines.E1.median).toBeGreaterThan(0);
      // C+ (its writes fail the bench when they match no user) against A, paired.
      expect(workload.baselines.Cplus.median).toBeGreaterThan(0);
      expect(workload.pairedRatios.AoverCplus.median).toBeGreaterThan(0);
    }
    // The two ways a run reads the directory, each through a fresh host, paired.
    expect(Object.keys(report.directoryReads.scenarios)).toEqual(['F1', 'F2']);
    for (const scenario of Object.values(report.directoryReads.scenarios))
      expect(scenario.pairedRatioSubtreeOverLookups.median).toBeGreaterThan(0);
    expect(report.fullRuns.users).toBe(3020);
    expect(Object.keys(report.fullRuns.scenarios)).toEqual(['F1', 'F2']);
    expect(report.fullRuns.bUsersPerSecond).toBeGreaterThan(0);
    for (const run of Object.values(report.fullRuns.scenarios)) {
      expect(run.usersPerSecond).toBeGreaterThan(0);
      // The stable names are the medians of the ratios paired per round (C reads as A does: C is C′).
      expect(run.ratioOverC).toBe(run.pairedRatioOverC.median);
      expect(run.ratioOverCprime).toBe(run.pairedRatioOverC.median);
    }
    expect(typeof report.fullRuns.hostRssOverIdleMiB).toBe('number');
    // Each baseline under its stable name, by workload.
    for (const baseline of ['E0', 'E1', 'Cplus'] as const)
      expect(Object.keys(report.baselines[baseline])).toEqual(['W1', 'W2', 'W3', 'W4', 'W5']);
    expect(report.feed.latencyMs.changes).toBe(5);
    expect(report.feed.latencyMs.p95).toBeGreaterThanOrEqual(report.feed.latencyMs.p50);
    expect(report.feed.idle.polls).toBeGreaterThan(0);
    expect(report.feed.idle.searchMs.median).toBeGreaterThan(0);
  }, 240_000);
});
