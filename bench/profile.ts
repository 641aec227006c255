// `npm run profile`: where a request's time goes. The cost of each pipeline step on its own (in this
// process), then a CPU profile of the host process over W1 and W4 requests (after warm-up), by package and
// by function. Writes bench/results/profile-latest.json and the raw profile (host.cpuprofile, which Chrome's
// DevTools and `speedscope` open).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedMongo } from '../harness/embedded-mongo';
import { DIRECTORY_SIZE } from './data';
import { seedBenchData, type BenchData } from './setup';
import { startHost, type BenchHost } from './host-client';
import { measurePipelineSteps } from './pipeline-steps';
import { measureQueryShapes } from './query-shapes';
import { measureAuditCopy, measureWriteShapes, type WriteShapeCost } from './write-shapes';
import { summariseProfile } from './profile-summary';
import { WORKLOADS } from './workloads';
import { SCENARIOS } from './full-runs';

const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 200);
const WARMUP = 30;

async function main() {
  const mongo = process.env.MONGODB_URI ? undefined : await EmbeddedMongo.start();
  const mongoUri = process.env.MONGODB_URI ?? mongo!.uri;
  const dbName = `abac_profile_${process.pid}`;
  let data: BenchData | undefined;
  let host: BenchHost | undefined;
  try {
    data = await seedBenchData(mongoUri, dbName, DIRECTORY_SIZE, log);
    const { models } = data;
    log('Timing each pipeline step on its own...');
    const steps = await measurePipelineSteps(models);
    log('Timing the lookups by identifier, shape by shape...');
    const queryShapes = await measureQueryShapes(models);
    log("Timing the users' update, shape by shape...");
    const writeShapes = await measureWriteShapes(models);
    log('Timing the audit copy with and without the undo journal...');
    const auditCopy = await measureAuditCopy(models);

    host = await startHost(mongoUri, dbName);
    if (process.env.PROFILE_RUN) {
      await profileFullRun(host, data.models, process.env.PROFILE_RUN);
      return;
    }
    const workloads = WORKLOADS.filter((workload) => workload.name === 'W1' || workload.name === 'W4');
    const requests = async (count: number) => {
      for (let call = 0; call < count; call += 1) {
        for (const workload of workloads) {
          await workload.reset(models);
          await host!.sync(workload);
        }
      }
    };
    await requests(WARMUP);
    log(
      `Profiling the host over ${REQUESTS} requests each of ${workloads.map((w) => w.name).join(' and ')}...`,
    );
    await host.startProfile();
    await requests(REQUESTS);
    const profile = await host.stopProfile();
    const summary = summariseProfile(profile, 20);
    const perRequest = REQUESTS * workloads.length;

    const output = join(__dirname, 'results');
    mkdirSync(output, { recursive: true });
    writeFileSync(join(output, 'host.cpuprofile'), JSON.stringify(profile));
    const report = {
      date: new Date().toISOString(),
      directoryEntries: DIRECTORY_SIZE,
      steps,
      queryShapes,
      writeShapes,
      auditCopy,
      profile: {
        requests: perRequest,
        cpuMsPerRequest: round2(summary.totalMs / perRequest),
        byPlace: summary.byPlace.map((place) => ({ ...place, msPerRequest: round2(place.ms / perRequest) })),
        topFunctions: summary.topFunctions.map((f) => ({ ...f, msPerRequest: round2(f.ms / perRequest) })),
      },
    };
    writeFileSync(join(output, 'profile-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    print(report);
  } finally {
    host?.stop();
    await data?.close();
    await mongo?.stop();
  }
}

function print(report: {
  steps: { step: string; medianUs: number }[];
  queryShapes: { shape: string; medianMs: number; found: number; onMongoDb: string }[];
  writeShapes: WriteShapeCost[];
  auditCopy: Awaited<ReturnType<typeof measureAuditCopy>>;
  profile: {
    requests: number;
    cpuMsPerRequest: number;
    byPlace: { place: string; share: number; msPerRequest: number }[];
    topFunctions: { name: string; msPerRequest: number }[];
  };
}) {
  const lines = ['', 'Pipeline steps, each on its own (median µs):'];
  for (const { step, medianUs } of report.steps) lines.push(`${String(medianUs).padStart(8)}  ${step}`);
  lines.push(
    '',
    `Lookups by identifier on ${DIRECTORY_SIZE.toLocaleString('en')} users, 100 values (median ms, found):`,
  );
  for (const { shape, medianMs, found, onMongoDb } of report.queryShapes)
    lines.push(
      `${medianMs.toFixed(1).padStart(8)}  ${String(found).padStart(3)}  ${shape}; MongoDB: ${onMongoDb}`,
    );
  lines.push('', "The users' update for 1,000 users in one bulkWrite, by shape (median ms):");
  for (const { shape, medianMs } of report.writeShapes)
    lines.push(`${medianMs.toFixed(1).padStart(8)}  ${shape}`);
  const { auditCopy } = report;
  lines.push(
    '',
    `The audit copy of 1,000 changes: the trail alone ${auditCopy.trailOnlyMs} ms, with the undo journal ` +
      `${auditCopy.withJournalMs} ms (median); paired ratio ${auditCopy.ratio.median} ` +
      `(IQR ${auditCopy.ratio.iqr[0]}–${auditCopy.ratio.iqr[1]})`,
  );
  const { profile } = report;
  lines.push(
    '',
    `Host CPU over ${profile.requests} requests (W1 and W4): ${profile.cpuMsPerRequest} ms per request, by place:`,
  );
  for (const place of profile.byPlace.slice(0, 20))
    lines.push(
      `${place.msPerRequest.toFixed(2).padStart(8)} ms  ${String(place.share).padStart(5)}%  ${place.place}`,
    );
  lines.push('', 'Functions with the most self time (ms per request):');
  for (const f of profile.topFunctions) lines.push(`${f.msPerRequest.toFixed(3).padStart(8)}  ${f.name}`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

/**
 * `PROFILE_RUN=F1|F2`: the host's CPU over one directory-wide run of that scenario, after one warm-up run,
 * written as run.cpuprofile with the same summary by place and function.
 */
async function profileFullRun(host: BenchHost, models: BenchData['models'], name: string) {
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) throw new Error(`PROFILE_RUN names no scenario: ${name}`);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idle = await host.memoryPeaks();
  await scenario.reset(models);
  await host.fullRun();
  await scenario.reset(models);
  log(`Profiling the host over one ${name} run...`);
  await host.memoryPeaks();
  await host.startProfile();
  const run = await host.fullRun();
  const profile = await host.stopProfile();
  const peaks = await host.memoryPeaks();
  const summary = summariseProfile(profile, 30);
  const output = join(__dirname, 'results');
  mkdirSync(output, { recursive: true });
  writeFileSync(join(output, 'run.cpuprofile'), JSON.stringify(profile));
  const lines = [
    '',
    `${name}: ${Math.round(run.ms)} ms (planning ${Math.round(run.planningMs)}, applying ${Math.round(run.applyingMs)}); host CPU ${Math.round(summary.totalMs)} ms, by place:`,
  ];
  for (const place of summary.byPlace.slice(0, 20))
    lines.push(`${place.ms.toFixed(0).padStart(8)} ms  ${String(place.share).padStart(5)}%  ${place.place}`);
  lines.push('', 'Functions with the most self time (ms):');
  for (const f of summary.topFunctions) lines.push(`${f.ms.toFixed(0).padStart(8)}  ${f.name}  ${f.place}`);
  lines.push('', `phases: ${JSON.stringify(run.syncPhases)}`);
  lines.push(
    `host memory (MiB), idle before any run: ${JSON.stringify(idle)}; the profiled run's peaks: ${JSON.stringify(peaks)}`,
  );
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function log(message: string) {
  process.stderr.write(`[profile] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
