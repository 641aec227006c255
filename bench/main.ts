// `npm run bench`: A (the product over HTTP) against B (per-user) and C (hand-batched floor), interleaved.
import { Agent, request as httpRequest } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mongoose from 'mongoose';
import { EmbeddedMongo } from '../harness/embedded-mongo';
import { startTsProcess } from '../harness/ts-process';
import { generatePeopleLdif, standardDirectory } from '../harness/fixtures';
import { Slapd } from '../harness/slapd';
import { hashLoginToken } from '../lib/http/auth';
import { parseAttributeMap } from '../lib/sync/attribute-mapping';
import { generateLicenseKeys, signLicense } from '../lib/http/license';
import { SYNC_PHASES, type PhaseDurations } from '../lib/sync/phase-timer';
import { createModels, ensureIndexes } from '../models';
import { DIRECTORY_SIZE, seedUsers } from './data';
import { batchedFloor, perUserAlgorithm, type BenchContext } from './variants';
import { WORKLOADS, type Workload } from './workloads';
import { measureFeed, openSession } from './feed';
import { B_SAMPLE, fullFloor, fullFloorByLookups, perUserSample, RUN_USERS, SCENARIOS } from './full-runs';
import { syncConfiguration, type SyncConfiguration } from '../lib/sync/sync-configuration';
import { SETTING_DEFAULTS, type SettingsSnapshot } from '../lib/settings';

const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const MAP = { departmentNumber: 'department', employeeType: 'employeeType' };
const ADMIN = { id: 'bench-admin', token: 'bench-admin-token' };
const FULL_ROUNDS = Number(process.env.BENCH_FULL_ROUNDS ?? 3);

interface RunLog {
  time: number;
  msg: string;
  jobId: string;
  durationsMs: PhaseDurations;
}

interface Samples {
  A: number[];
  B: number[];
  C: number[];
  Cread: number[];
  phases: PhaseDurations[];
}

async function main() {
  const began = performance.now();
  log(`Starting slapd with ${DIRECTORY_SIZE.toLocaleString('en')} generated people...`);
  const slapd = await Slapd.start({
    ldif: [...standardDirectory(), generatePeopleLdif({ count: DIRECTORY_SIZE })],
  });
  const mongo = process.env.MONGODB_URI ? undefined : await EmbeddedMongo.start();
  const mongoUri = process.env.MONGODB_URI ?? mongo!.uri;
  const dbName = `abac_bench_${process.pid}`;
  const connection = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
  const models = createModels(connection);
  let host: Awaited<ReturnType<typeof startHost>> | undefined;
  try {
    await ensureIndexes(models);
    log(`Seeding ${DIRECTORY_SIZE.toLocaleString('en')} users...`);
    await seedUsers(models);
    const settings = await seedAdminAndSettings(models, slapd);
    const setupSeconds = (performance.now() - began) / 1000;

    host = await startHost(mongoUri, dbName);
    const info = slapd.info();
    const session = await openSession(slapd);
    const context: BenchContext = {
      models,
      session,
      mapping: parseAttributeMap(JSON.stringify(MAP)),
      baseDN: info.baseDN,
    };

    const results: Record<string, Samples> = {};
    for (const workload of WORKLOADS) {
      log(`${workload.name}: ${workload.description}`);
      const samples: Samples = { A: [], B: [], C: [], Cread: [], phases: [] };
      for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
        const keep = round >= WARMUP_ROUNDS;
        // Interleaved, and the order rotates so no variant always runs on a just-warmed server.
        const order = (['A', 'B', 'C'] as const).map((_, i, all) => all[(i + round) % 3]!);
        for (const variant of order) {
          await workload.reset(models);
          if (variant === 'A') {
            const { ms, phases } = await host.sync(workload);
            if (keep) {
              samples.A.push(ms);
              samples.phases.push(phases);
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
        }
      }
      results[workload.name] = samples;
    }
    const maxRssKiB = await host.maxRss();
    host.stop();
    // Directory-wide runs in a host of their own, so its peak memory is theirs alone.
    host = await startHost(mongoUri, dbName);
    const fullRuns = await measureFullRuns(
      host,
      context,
      syncConfiguration({ ...SETTING_DEFAULTS, ...settings } as SettingsSnapshot),
    );
    await session.close();
    host.stop();
    // The feed in a host of its own too, so the CPU it reports is the idle feed's (and the host's own timers).
    host = await startHost(mongoUri, dbName);
    const feed = await measureFeed(models, slapd, host, log);
    const report = {
      ...summarise(results, maxRssKiB, setupSeconds, (performance.now() - began) / 1000),
      fullRuns,
      feed,
    };
    printTable(report);
    printFullRuns(fullRuns);
    printFeed(feed);
    const output = process.env.BENCH_OUTPUT ?? join(__dirname, 'results', 'latest.json');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
    log(`Wrote ${output} (${report.totalSeconds.toFixed(0)} s in all).`);
  } finally {
    host?.stop();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await mongo?.stop();
    await slapd.stop();
  }
}

async function seedAdminAndSettings(models: ReturnType<typeof createModels>, slapd: Slapd) {
  const info = slapd.info();
  await models.roles.collection.insertOne({ _id: 'admin', name: 'admin', scope: 'Users' } as never);
  await models.users.collection.insertOne({
    _id: ADMIN.id,
    username: 'bench-admin',
    active: true,
    roles: ['admin'],
    services: { resume: { loginTokens: [{ hashedToken: hashLoginToken(ADMIN.token), when: new Date() }] } },
  } as never);
  const settings: Record<string, unknown> = {
    ABAC_Enabled: true,
    LDAP_Enable: true,
    LDAP_Host: '127.0.0.1',
    LDAP_Port: info.port,
    LDAP_Authentication: true,
    LDAP_Authentication_UserDN: info.serviceDN,
    LDAP_Authentication_Password: info.servicePassword,
    LDAP_BaseDN: info.baseDN,
    LDAP_User_Search_Field: 'uid',
    LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)',
    LDAP_ABAC_AttributeMap: JSON.stringify(MAP),
  };
  await models.settings.collection.insertMany(
    Object.entries(settings).map(([_id, value]) => ({ _id, value })) as never[],
  );
  return settings;
}

async function startHost(mongoUri: string, dbName: string) {
  const keys = generateLicenseKeys();
  const license = signLicense(
    {
      licensee: 'bench',
      modules: ['abac', 'ldap-enterprise'],
      validFrom: '2026-01-01T00:00:00Z',
      validUntil: '2099-01-01T00:00:00Z',
    },
    keys.privateKeyPem,
  );
  // The host's per-sync log lines, in order; pino writes them asynchronously, so one may trail its answer.
  const loggedPhases: PhaseDurations[] = [];
  const runLog: RunLog[] = [];
  let phasesLogged: (() => void) | undefined;
  const host = await startTsProcess(join(__dirname, 'host.ts'), {
    env: {
      ...process.env,
      BENCH_HOST_CONFIG: JSON.stringify([mongoUri, dbName, license, keys.publicKeyPem]),
    },
    ready: /^READY (\d+)$/,
    onStderrLine: (line) => {
      if (line.includes('directory-wide sync run')) runLog.push(JSON.parse(line) as RunLog);
      if (!line.includes('users sync finished')) return;
      loggedPhases.push((JSON.parse(line) as { durationsMs: PhaseDurations }).durationsMs);
      phasesLogged?.();
    },
  });
  const nextLoggedPhases = async (): Promise<PhaseDurations> => {
    if (loggedPhases.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the host logged no sync line within 5 s')), 5000);
        phasesLogged = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      phasesLogged = undefined;
    }
    return loggedPhases.shift()!;
  };
  const port = Number(host.readyLine[1]);
  const base = `http://127.0.0.1:${port}`;
  const headers = { 'X-User-Id': ADMIN.id, 'X-Auth-Token': ADMIN.token, 'Content-Type': 'application/json' };
  return {
    async sync(workload: Workload) {
      const started = performance.now();
      const response = await post(
        port,
        '/api/v1/abac/users/sync',
        headers,
        JSON.stringify(workload.identifiers),
      );
      const ms = performance.now() - started;
      const body = JSON.parse(response.body) as { success: boolean };
      if (response.status !== 200 || !body.success)
        throw new Error(`A failed: ${response.status} ${response.body}`);
      const phases = await nextLoggedPhases();
      return { ms, phases };
    },
    /** Starts a directory-wide run and resolves once it has ended, with its times from the host's log. */
    async fullRun() {
      const started = await post(port, '/api/v1/abac/users/sync/jobs', headers, '{}');
      if (started.status !== 202) throw new Error(`run refused: ${started.status} ${started.body}`);
      const jobId = (JSON.parse(started.body) as { job: { _id: string } }).job._id;
      for (;;) {
        const response = await fetch(`${base}/api/v1/abac/users/sync/jobs/${jobId}`, { headers });
        const { job } = (await response.json()) as {
          job: { state: string; summary: object; error?: object };
        };
        if (job.state === 'completed') break;
        if (job.state !== 'queued' && job.state !== 'running')
          throw new Error(`run ${jobId} ended ${job.state}: ${JSON.stringify(job.error)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // pino writes asynchronously: the finished line may trail the job's state.
      const lineOf = async (text: string) => {
        for (let waited = 0; waited < 5000; waited += 20) {
          const line = runLog.find((entry) => entry.jobId === jobId && entry.msg.endsWith(text));
          if (line) return line;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`the host logged no "${text}" line for run ${jobId}`);
      };
      const [begun, applying, finished] = [
        await lineOf('run started'),
        await lineOf('run: applying'),
        await lineOf('run finished'),
      ];
      return {
        ms: finished.time - begun.time,
        planningMs: applying.time - begun.time,
        applyingMs: finished.time - applying.time,
        syncPhases: finished.durationsMs,
      };
    },
    async rss() {
      return ((await (await fetch(`${base}/bench/max-rss`)).json()) as { rssKiB: number }).rssKiB;
    },
    async cpuMs() {
      return ((await (await fetch(`${base}/bench/cpu`)).json()) as { cpuMs: number }).cpuMs;
    },
    async maxRss() {
      return ((await (await fetch(`${base}/bench/max-rss`)).json()) as { maxRssKiB: number }).maxRssKiB;
    },
    stop() {
      agent.destroy();
      host.child.stdin?.end();
      host.child.kill('SIGTERM');
    },
  };
}

// node:http with one kept-alive connection: the client's own overhead stays out of A's time as far as it can.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(port: number, path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
};
const stats = (values: number[]) => ({
  min: quantile(values, 0),
  median: quantile(values, 0.5),
  p95: quantile(values, 0.95),
});
const round1 = (value: number) => Math.round(value * 10) / 10;

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
      const inService = SYNC_PHASES.reduce((sum, phase) => sum + (phaseMedians[phase] ?? 0), 0);
      return [
        name,
        {
          description: WORKLOADS.find((w) => w.name === name)?.description,
          msA: A,
          msB: B,
          msC: C,
          msCReadOnly: Cread,
          ratioBoverA: Math.round((B.median / A.median) * 100) / 100,
          ratioAoverC: Math.round((A.median / (name === 'W4' ? Cread.median : C.median)) * 100) / 100,
          comparedWith: name === 'W4' ? "C's read part" : 'C',
          phasesMedianMs: { ...phaseMedians, httpAndPipeline: round1(A.median - inService) },
        },
      ];
    }),
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
    lines.push(
      `${''.padEnd(9)} A's median by phase (ms): ${Object.entries(w.phasesMedianMs)
        .map(([p, v]) => `${p} ${v}`)
        .join(', ')}`,
    );
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
  host: Awaited<ReturnType<typeof startHost>>,
  context: BenchContext,
  configuration: SyncConfiguration,
) {
  const { models } = context;
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
      });
      log(`${scenario.name} round ${round + 1}/${FULL_ROUNDS}: ${scenario.description}`);
      await scenario.reset(models);
      const run = await host.fullRun();
      sample.ms.push(run.ms);
      sample.planningMs.push(run.planningMs);
      sample.applyingMs.push(run.applyingMs);
      sample.syncPhases.push(run.syncPhases);
      await scenario.reset(models);
      const floor = await fullFloor(context);
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
          ratioOverC: Math.round((ms / cMs) * 100) / 100,
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
    scenarios,
  };
}

function printFullRuns(full: Awaited<ReturnType<typeof measureFullRuns>>) {
  const lines = [
    `Directory-wide runs over ${full.users.toLocaleString('en')} users (${full.rounds} rounds, medians):`,
  ];
  for (const [name, run] of Object.entries(full.scenarios)) {
    lines.push(
      `${name.padEnd(9)} ${String(run.usersPerSecond).padStart(7)} users/s  ${run.ms.median.toFixed(0)} ms ` +
        `(planning ${run.phasesMedianMs.planning}, applying ${run.phasesMedianMs.applying})  ` +
        `C ${run.msC.median.toFixed(0)} ms (reads ${run.msCReadOnly.median.toFixed(0)}; by lookups ${run.msCReadByLookups.median.toFixed(0)})  ` +
        `run/C = ${run.ratioOverC}×  run/B = ${run.ratioOverB}×`,
    );
  }
  lines.push(
    `B (per-user loop, ${full.bSample.toLocaleString('en')}-user sample): ${full.bUsersPerSecond} users/s`,
    `Run host RSS: idle ${full.hostIdleRssMiB} MiB, peak ${full.hostPeakRssMiB} MiB (+${full.hostPeakRssMiB - full.hostIdleRssMiB})`,
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
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

function log(message: string) {
  process.stderr.write(`[bench] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
