// `npm run bench`: A (the product over HTTP) against B (per-user) and C (hand-batched floor), interleaved.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedMongo } from '../harness/embedded-mongo';
import { parseAttributeMap } from '../lib/sync/attribute-mapping';
import { SYNC_PHASES, type PhaseDurations } from '../lib/sync/phase-timer';
import { DIRECTORY_SIZE, MAP } from './data';
import { seedBenchData, type BenchData } from './setup';
import type { BenchContext } from './variants';
import {
  measureLimitCost,
  measureSmallDirectory,
  benchCpuMeter,
  measureWorkloads,
  ROUNDS,
  type ServerPids,
  WARMUP_ROUNDS,
  type Samples,
} from './request-workloads';
import { WORKLOADS } from './workloads';
import { startHost, type BenchHost } from './host-client';
import { meanCpu, type CpuByProcess } from './process-cpu';
import { measureFeed, openSession } from './feed';
import { measureLdapClients } from './ldap-clients';
import { DelayedProxy } from './delayed-proxy';
import { measureScale, scaleSizes } from './scale';
import { quantile, round1, spread, stats } from './statistics';
import { measureDirectoryReads } from './directory-reads';
import { B_SAMPLE, fullFloor, fullFloorByLookups, perUserSample, RUN_USERS, SCENARIOS } from './full-runs';
import { syncConfiguration, type SyncConfiguration } from '../lib/sync/sync-configuration';
import { SETTING_DEFAULTS, type SettingsSnapshot } from '../lib/settings';

const FULL_ROUNDS = Number(process.env.BENCH_FULL_ROUNDS ?? 5);
/**
 * Which parts run (BENCH_PARTS, comma-separated): clients, requests, limits, w5, remote, full, feed by default;
 * reads on demand.
 */
const PARTS = new Set((process.env.BENCH_PARTS ?? 'clients,requests,limits,w5,remote,full,feed').split(','));

async function main() {
  const began = performance.now();
  const mongo = process.env.MONGODB_URI ? undefined : await EmbeddedMongo.start();
  const mongoUri = process.env.MONGODB_URI ?? mongo!.uri;
  const dbName = `abac_bench_${process.pid}`;
  let data: BenchData | undefined;
  let host: BenchHost | undefined;
  try {
    data = await seedBenchData(mongoUri, dbName, DIRECTORY_SIZE, log);
    const { slapd, models, settings } = data;
    const setupSeconds = (performance.now() - began) / 1000;

    // The LDAP clients first, with no host running: this process and slapd alone.
    const ldapClients = PARTS.has('clients') ? await measureLdapClients(slapd, log) : undefined;
    host = await startHost(mongoUri, dbName);
    const info = slapd.info();
    const session = await openSession(slapd);
    const servers: ServerPids = { slapd: slapd.pid, mongo: mongo?.pid };
    const context: BenchContext = {
      models,
      session,
      mapping: parseAttributeMap(JSON.stringify(MAP)),
      baseDN: info.baseDN,
    };

    const results = PARTS.has('requests')
      ? await measureWorkloads(host, context, WORKLOADS, log, servers)
      : {};
    const maxRssKiB = await host.maxRss();
    host.stop();
    const limits = PARTS.has('limits') ? await measureLimitCost(mongoUri, dbName, models, log) : undefined;
    if (PARTS.has('w5')) Object.assign(results, await measureSmallDirectory(mongoUri, mongo?.pid, log));
    const remote = PARTS.has('remote')
      ? await measureRemoteDirectory(mongoUri, dbName, data, context, servers)
      : undefined;
    let fullRuns: Awaited<ReturnType<typeof measureFullRuns>> | undefined;
    if (PARTS.has('full')) {
      // Directory-wide runs in a host of their own, so its peak memory is theirs alone.
      host = await startHost(mongoUri, dbName);
      fullRuns = await measureFullRuns(
        host,
        context,
        syncConfiguration({ ...SETTING_DEFAULTS, ...settings } as SettingsSnapshot),
        servers,
      );
      host.stop();
    }
    // On demand (BENCH_PARTS=...,reads): the two ways a run reads the directory, paired per round.
    const directoryReads = PARTS.has('reads')
      ? await measureDirectoryReads(mongoUri, dbName, models, servers, log)
      : undefined;
    await session.close();
    let feed: Awaited<ReturnType<typeof measureFeed>> | undefined;
    if (PARTS.has('feed')) {
      // The feed in a host of its own too, so the CPU it reports is the idle feed's (and the host's timers).
      host = await startHost(mongoUri, dbName);
      feed = await measureFeed(models, slapd, host, log);
    }
    host?.stop();
    // On demand only (BENCH_SCALE): directories of each size, one after the other, nothing else running.
    const sizes = scaleSizes();
    const scale = sizes.length > 0 ? await measureScale(mongoUri, mongo?.pid, sizes, log) : undefined;
    const report = {
      ...summarise(results, maxRssKiB, setupSeconds, (performance.now() - began) / 1000),
      ldapClients,
      remote,
      directoryReads,
      scale,
      limits,
      fullRuns,
      feed,
    };
    printTable(report);
    if (ldapClients) printLdapClients(ldapClients);
    if (remote) printRemote(remote);
    if (scale) printScale(scale);
    if (limits) printLimits(limits);
    if (fullRuns) printFullRuns(fullRuns);
    if (directoryReads) printDirectoryReads(directoryReads);
    if (feed) printFeed(feed);
    const output = process.env.BENCH_OUTPUT ?? join(__dirname, 'results', 'latest.json');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
    log(`Wrote ${output} (${report.totalSeconds.toFixed(0)} s in all).`);
  } finally {
    host?.stop();
    await data?.close();
    await mongo?.stop();
  }
}

function summarise(
  results: Record<string, Samples>,
  maxRssKiB: number,
  setupSeconds: number,
  totalSeconds: number,
) {
  const workloads = Object.fromEntries(
    Object.entries(results).map(([name, samples]) => {
      const A = stats(samples.A);
      const B = stats(samples.B);
      const C = stats(samples.C);
      const Cread = stats(samples.Cread);
      const phaseMedians = Object.fromEntries(
        SYNC_PHASES.map((phase) => [
          phase,
          round1(
            quantile(
              samples.phases.map((p) => p[phase]),
              0.5,
            ),
          ),
        ]),
      );
      // Per request, then the median: A's time outside the sync's phases, in the host and outside it.
      const inService = samples.phases.map((phases) =>
        SYNC_PHASES.reduce((sum, phase) => sum + phases[phase], 0),
      );
      const pipeline = {
        httpAndPipeline: round1(
          quantile(
            samples.A.map((ms, i) => ms - inService[i]!),
            0.5,
          ),
        ),
        pipelineInHost: round1(
          quantile(
            samples.hostMs.map((ms, i) => ms - inService[i]!),
            0.5,
          ),
        ),
        connectionAndClient: round1(
          quantile(
            samples.A.map((ms, i) => ms - samples.hostMs[i]!),
            0.5,
          ),
        ),
      };
      return [
        name,
        {
          description: samples.description,
          msA: A,
          msB: B,
          msC: C,
          msCReadOnly: Cread,
          ratioBoverA: Math.round((B.median / A.median) * 100) / 100,
          ratioAoverC: Math.round((A.median / (name === 'W4' ? Cread.median : C.median)) * 100) / 100,
          comparedWith: name === 'W4' ? "C's read part" : 'C',
          phasesMedianMs: { ...phaseMedians, ...pipeline },
          // Paired per round: each round's B over its A, its A over its C (median and IQR).
          pairedRatios: {
            BoverA: spread(samples.B.map((ms, i) => ms / samples.A[i]!)),
            AoverC: spread(
              samples.A.map((ms, i) => ms / (name === 'W4' ? samples.Cread[i]! : samples.C[i]!)),
            ),
            AoverCplus: spread(samples.A.map((ms, i) => ms / samples.Cplus[i]!)),
          },
          baselines: {
            E0: stats(samples.E0),
            E1: stats(samples.E1),
            Cplus: stats(samples.Cplus),
            // A's time outside the sync's phases against E1's, paired per round: the request's overhead.
            overheadOverE1Ms: spread(
              samples.A.map((ms, i) => ms - inService[i]! - samples.E1[i]!),
              1,
            ),
          },
          cpuMsMeanPerCall: {
            A: meanCpu(samples.cpu.A),
            B: meanCpu(samples.cpu.B),
            C: meanCpu(samples.cpu.C),
          },
        },
      ];
    }),
  );
  // The issue's stable names: each baseline by workload, beside the workloads that carry them.
  const baselines = Object.fromEntries(
    (['E0', 'E1', 'Cplus', 'overheadOverE1Ms'] as const).map((baseline) => [
      baseline,
      Object.fromEntries(Object.entries(workloads).map(([name, w]) => [name, w.baselines[baseline]])),
    ]),
  );
  return {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
    directory: { entries: DIRECTORY_SIZE, server: 'OpenLDAP slapd' },
    mongo: process.env.MONGODB_URI ? 'MONGODB_URI' : 'embedded mongo-java-server (in memory)',
    rounds: { warmup: WARMUP_ROUNDS, measured: ROUNDS },
    hostPeakRssMiB: Math.round(maxRssKiB / 1024),
    setupSeconds: round1(setupSeconds),
    totalSeconds: round1(totalSeconds),
    workloads,
    baselines,
  };
}

function printTable(report: ReturnType<typeof summarise>) {
  const lines = [
    '',
    `Benchmark ${report.date} · ${report.machine.cores} cores · ${report.directory.entries.toLocaleString('en')}-entry slapd · ${report.mongo} · ${report.rounds.measured} rounds`,
    '',
    'workload  variant      min   median      p95   (ms)',
  ];
  for (const [name, w] of Object.entries(report.workloads)) {
    for (const [label, s] of [
      ['A product', w.msA],
      ['B per-user', w.msB],
      ['C floor', w.msC],
      ['C reads', w.msCReadOnly],
    ] as const) {
      lines.push(
        `${name.padEnd(9)} ${label.padEnd(10)} ${s.min.toFixed(1).padStart(8)} ${s.median.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)}`,
      );
    }
    lines.push(`${''.padEnd(9)} B/A = ${w.ratioBoverA}×   A/C = ${w.ratioAoverC}× (vs ${w.comparedWith})`);
    const paired = (value: { median: number; iqr: number[] }) =>
      `${value.median} (IQR ${value.iqr[0]}–${value.iqr[1]})`;
    lines.push(
      `${''.padEnd(9)} paired per round: B/A ${paired(w.pairedRatios.BoverA)}, A/C ${paired(w.pairedRatios.AoverC)}, A/C+ ${paired(w.pairedRatios.AoverCplus)}`,
      `${''.padEnd(9)} baselines: E0 ${w.baselines.E0.median.toFixed(1)} ms, E1 ${w.baselines.E1.median.toFixed(1)} ms, C+ ${w.baselines.Cplus.median.toFixed(1)} ms; ` +
        `A outside its sync phases minus E1, paired: ${paired(w.baselines.overheadOverE1Ms)} ms`,
    );
    lines.push(
      `${''.padEnd(9)} A's median by phase (ms): ${Object.entries(w.phasesMedianMs)
        .map(([p, v]) => `${p} ${v}`)
        .join(', ')}`,
    );
    for (const [variant, cpu] of Object.entries(w.cpuMsMeanPerCall))
      lines.push(cpuLine(`${variant}'s CPU per call`, cpu));
  }
  lines.push(
    '',
    `Host peak RSS: ${report.hostPeakRssMiB} MiB · setup ${report.setupSeconds} s · total ${report.totalSeconds} s`,
    '',
  );
  process.stdout.write(lines.join('\n'));
}

/** F1 and F2 through the product, interleaved with C, and B on its sample; medians over FULL_ROUNDS. */
async function measureFullRuns(
  host: BenchHost,
  context: BenchContext,
  configuration: SyncConfiguration,
  servers: ServerPids,
) {
  const { models } = context;
  const cpuMeter = benchCpuMeter(host, servers);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleRssKiB = await host.rss();
  const samples: Record<
    string,
    {
      ms: number[];
      planningMs: number[];
      applyingMs: number[];
      cMs: number[];
      cReadMs: number[];
      cLookupsReadMs: number[];
      syncPhases: PhaseDurations[];
      runCpu: CpuByProcess[];
      cCpu: CpuByProcess[];
    }
  > = {};
  const bUsersPerSecond: number[] = [];
  for (let round = 0; round < FULL_ROUNDS; round += 1) {
    for (const scenario of SCENARIOS) {
      const sample = (samples[scenario.name] ??= {
        ms: [],
        planningMs: [],
        applyingMs: [],
        cMs: [],
        cReadMs: [],
        cLookupsReadMs: [],
        syncPhases: [],
        runCpu: [],
        cCpu: [],
      });
      log(`${scenario.name} round ${round + 1}/${FULL_ROUNDS}: ${scenario.description}`);
      await scenario.reset(models);
      const runCpuSpent = cpuMeter.start();
      const run = await host.fullRun();
      sample.runCpu.push(runCpuSpent());
      sample.ms.push(run.ms);
      sample.planningMs.push(run.planningMs);
      sample.applyingMs.push(run.applyingMs);
      sample.syncPhases.push(run.syncPhases);
      await scenario.reset(models);
      const floorCpuSpent = cpuMeter.start();
      const floor = await fullFloor(context);
      sample.cCpu.push(floorCpuSpent());
      sample.cMs.push(floor.ms);
      sample.cReadMs.push(floor.readMs);
      await scenario.reset(models);
      const byLookups = await fullFloorByLookups(context, configuration);
      sample.cLookupsReadMs.push(byLookups.readMs);
    }
    if (round < 2) {
      log(`B round ${round + 1}: the per-user loop over ${B_SAMPLE.toLocaleString('en')} users`);
      bUsersPerSecond.push(await perUserSample(context));
    }
  }
  const peakRssKiB = await host.maxRss();
  const bRate = quantile(bUsersPerSecond, 0.5);
  const scenarios = Object.fromEntries(
    Object.entries(samples).map(([name, sample]) => {
      const ms = quantile(sample.ms, 0.5);
      const cMs = quantile(sample.cMs, 0.5);
      const usersPerSecond = Math.round((RUN_USERS * 1000) / ms);
      const pairedRatioOverC = spread(sample.ms.map((runMs, i) => runMs / sample.cMs[i]!));
      return [
        name,
        {
          description: SCENARIOS.find((scenario) => scenario.name === name)?.description,
          ms: stats(sample.ms),
          usersPerSecond,
          phasesMedianMs: {
            planning: round1(quantile(sample.planningMs, 0.5)),
            applying: round1(quantile(sample.applyingMs, 0.5)),
          },
          msC: stats(sample.cMs),
          msCReadOnly: stats(sample.cReadMs),
          /** C's reads with the product's batched lookups instead of one subtree read. */
          msCReadByLookups: stats(sample.cLookupsReadMs),
          runSyncPhasesMedianMs: Object.fromEntries(
            SYNC_PHASES.map((phase) => [
              phase,
              round1(
                quantile(
                  sample.syncPhases.map((phases) => phases[phase]),
                  0.5,
                ),
              ),
            ]),
          ),
          cpuMsMeanPerRun: { run: meanCpu(sample.runCpu), C: meanCpu(sample.cCpu) },
          /** The median of the run over C paired per round; the ratio of the two medians beside it. */
          ratioOverC: pairedRatioOverC.median,
          ratioOfMediansOverC: Math.round((ms / cMs) * 100) / 100,
          /** The run over C, paired per round (median and IQR). */
          pairedRatioOverC,
          // C reads through the product's Directory port, on ldapts and its decoding as A does: C is C′.
          ratioOverCprime: pairedRatioOverC.median,
          ratioOverB: Math.round((usersPerSecond / bRate) * 10) / 10,
        },
      ];
    }),
  );
  return {
    users: RUN_USERS,
    rounds: FULL_ROUNDS,
    bSample: B_SAMPLE,
    bUsersPerSecond: Math.round(bRate),
    hostIdleRssMiB: Math.round(idleRssKiB / 1024),
    hostPeakRssMiB: Math.round(peakRssKiB / 1024),
    hostRssOverIdleMiB: Math.round((peakRssKiB - idleRssKiB) / 1024),
    scenarios,
  };
}

function printDirectoryReads(reads: NonNullable<Awaited<ReturnType<typeof measureDirectoryReads>>>) {
  const lines = [`Directory reads of a run, a fresh host per run (${reads.rounds} rounds, medians):`];
  for (const [name, scenario] of Object.entries(reads.scenarios)) {
    const { median, iqr } = scenario.pairedRatioSubtreeOverLookups;
    const worker = scenario.pairedRatioWorkerOverThread;
    const rss = scenario.hostRssOverIdleMiBMedian;
    lines.push(
      `${name}  lookups ${scenario.medianMs.lookups} ms, map in a worker ${scenario.medianMs.subtree} ms, ` +
        `map in the host's thread ${scenario.medianMs.subtreeInThread} ms; map (worker)/lookups paired ` +
        `${median} (IQR ${iqr[0]}–${iqr[1]}), worker/thread ${worker.median} (IQR ${worker.iqr[0]}–` +
        `${worker.iqr[1]}); host RSS over idle ${rss.lookups}, ${rss.subtree} and ${rss.subtreeInThread} MiB`,
    );
    for (const mode of ['lookups', 'subtree', 'subtreeInThread'] as const)
      lines.push(cpuLine(`${mode} CPU`, scenario.cpuMsMean[mode] ?? {}));
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

function printFullRuns(full: Awaited<ReturnType<typeof measureFullRuns>>) {
  const lines = [
    `Directory-wide runs over ${full.users.toLocaleString('en')} users (${full.rounds} rounds, medians; ` +
      `directory read: ${process.env.BENCH_DIRECTORY_READ === 'lookups' ? 'batched lookups' : 'the subtree map'}):`,
  ];
  for (const [name, run] of Object.entries(full.scenarios)) {
    lines.push(
      `${name.padEnd(9)} ${String(run.usersPerSecond).padStart(7)} users/s  ${run.ms.median.toFixed(0)} ms ` +
        `(planning ${run.phasesMedianMs.planning}, applying ${run.phasesMedianMs.applying})  ` +
        `C ${run.msC.median.toFixed(0)} ms (reads ${run.msCReadOnly.median.toFixed(0)}; by lookups ${run.msCReadByLookups.median.toFixed(0)})  ` +
        `run/C = ${run.ratioOverC}× (paired)  run/B = ${run.ratioOverB}×`,
    );
    for (const [variant, cpu] of Object.entries(run.cpuMsMeanPerRun))
      lines.push(cpuLine(`${variant}'s CPU`, cpu));
  }
  lines.push(
    `B (per-user loop, ${full.bSample.toLocaleString('en')}-user sample): ${full.bUsersPerSecond} users/s`,
    `Run host RSS: idle ${full.hostIdleRssMiB} MiB, peak ${full.hostPeakRssMiB} MiB (+${full.hostRssOverIdleMiB})`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line of a variant's CPU by process (means, ms). */
function cpuLine(label: string, cpu: CpuByProcess): string {
  return `${''.padEnd(9)} ${label}, mean (ms): ${Object.entries(cpu)
    .map(([process, ms]) => `${process} ${ms}`)
    .join(', ')}`;
}

function printLimits(limits: Awaited<ReturnType<typeof measureLimitCost>>) {
  const { medianMs, addedMs } = limits;
  process.stdout.write(
    `Request limits on ${limits.workload} (medians): off ${medianMs.off} ms, counted in MongoDB ${medianMs.mongo} ms ` +
      `(+${addedMs.mongo}), counted in memory ${medianMs.memory} ms (+${addedMs.memory})\n\n`,
  );
}

function printFeed(feed: Awaited<ReturnType<typeof measureFeed>>) {
  const { latencyMs, idle } = feed;
  process.stdout.write(
    [
      `Changed-entries feed (interval ${feed.intervalSeconds} s; first poll over the directory ${feed.firstPollSeconds} s):`,
      `latency, directory write to eviction in MongoDB, ${latencyMs.changes} changes: p50 ${latencyMs.p50} ms, p95 ${latencyMs.p95} ms, max ${latencyMs.max} ms`,
      `idle, ${idle.polls} polls in ${idle.seconds} s: host CPU ${idle.hostCpuMsPerPoll} ms/poll (${idle.hostCpuShareOfOneCore}% of a core), ` +
        `slapd CPU ${idle.slapdCpuMsPerPoll} ms/poll (${idle.slapdCpuShareOfOneCore}% of a core)`,
      `idle read: ${idle.searchMs.median} ms (p95 ${idle.searchMs.p95}, slapd CPU ${idle.searchMs.slapdCpuMs} ms) with the change-time indexes; ` +
        `${idle.searchMsWithoutIndexes.median} ms (p95 ${idle.searchMsWithoutIndexes.p95}, slapd CPU ${idle.searchMsWithoutIndexes.slapdCpuMs} ms) without`,
      '',
    ].join('\n') + '\n',
  );
}

/**
 * W1 with the directory about 1 ms away (a delaying proxy in front of slapd), for A and B alike: the
 * per-user loop pays the distance per user, the batched read per chunk of users.
 */
async function measureRemoteDirectory(
  mongoUri: string,
  dbName: string,
  data: BenchData,
  context: BenchContext,
  servers: ServerPids,
) {
  const proxy = await DelayedProxy.start(data.slapd.info().port, 1);
  const ldapPort = { _id: 'LDAP_Port' };
  await data.models.settings.collection.updateOne(ldapPort as never, { $set: { value: proxy.port } });
  const session = await openSession(data.slapd, proxy.port);
  const host = await startHost(mongoUri, dbName);
  try {
    const w1 = WORKLOADS.find((candidate) => candidate.name === 'W1')!;
    const remoteW1 = { ...w1, description: `${w1.description}, the directory ~1 ms away` };
    const samples = (await measureWorkloads(host, { ...context, session }, [remoteW1], log, servers)).W1!;
    const A = stats(samples.A);
    const B = stats(samples.B);
    return {
      addedRoundTripMs: 1,
      W1: {
        msA: A,
        msB: B,
        ratioBoverA: Math.round((B.median / A.median) * 100) / 100,
        pairedRatioBoverA: spread(samples.B.map((ms, i) => ms / samples.A[i]!)),
      },
    };
  } finally {
    host.stop();
    await session.close();
    await data.models.settings.collection.updateOne(ldapPort as never, {
      $set: { value: data.slapd.info().port },
    });
    await proxy.close();
  }
}

function printScale(scale: Awaited<ReturnType<typeof measureScale>>) {
  const lines = scale.points.map(
    (point) =>
      `  ${point.users.toLocaleString('en').padStart(10)} users: ${point.usersPerSecond.toLocaleString('en')} users/s, ` +
      `host RSS +${point.hostRssOverIdleMiB} MiB over idle, CPU (ms) ${JSON.stringify(point.cpuMs)}`,
  );
  process.stdout.write(
    [
      `Scale, F1 (the faster of ${scale.rounds} rounds per size):`,
      ...lines,
      `  users/s spread across sizes: ${scale.usersPerSecondSpreadPercent}%`,
      '',
    ].join('\n') + '\n',
  );
}

function printRemote(remote: NonNullable<Awaited<ReturnType<typeof measureRemoteDirectory>>>) {
  const { W1 } = remote;
  process.stdout.write(
    `W1 with the directory ~${remote.addedRoundTripMs} ms away: A ${W1.msA.median.toFixed(1)} ms, ` +
      `B ${W1.msB.median.toFixed(1)} ms, B/A paired ${W1.pairedRatioBoverA.median} ` +
      `(IQR ${W1.pairedRatioBoverA.iqr[0]}–${W1.pairedRatioBoverA.iqr[1]})\n\n`,
  );
}

function printLdapClients(clients: Awaited<ReturnType<typeof measureLdapClients>>) {
  const line = (name: 'ldapjs' | 'ldapts') =>
    `  ${name}: ${clients[name].wallMs.median} ms, this process's CPU ${clients[name].benchCpuMs.median} ms ` +
    `(${clients[name].clientCpuMicrosecondsPerEntry} µs per entry), slapd's ${clients[name].slapdCpuMs.median} ms`;
  const ratio = (value: { median: number; iqr: number[] }) =>
    `${value.median} (IQR ${value.iqr[0]}–${value.iqr[1]})`;
  process.stdout.write(
    [
      `LDAP clients, the subtree of ${clients.entries.toLocaleString('en')} entries read ${clients.rounds} times each (medians):`,
      line('ldapjs'),
      line('ldapts'),
      `  ldapts / ldapjs, paired per round: wall ${ratio(clients.pairedRatios.wall)}, client CPU ${ratio(clients.pairedRatios.clientCpu)}`,
      '',
    ].join('\n') + '\n',
  );
}

function log(message: string) {
  process.stderr.write(`[bench] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
