// The benchmark's side of its host process (bench/host.ts): start it, call the sync and the runs, read its
// memory and CPU, profile it.
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AbacLdapSyncDeps } from '../app/create-router';
import { generateLicenseKeys, signLicense } from '../lib/access/license';
import type { PhaseDurations } from '../lib/sync/phase-timer';
import { startTsProcess } from '../harness/ts-process';
import { ADMIN } from './data';
import type { Workload } from './workloads';

interface RunLog {
  time: number;
  msg: string;
  jobId: string;
  durationsMs: PhaseDurations;
}

export type BenchHost = Awaited<ReturnType<typeof startHost>>;

/** Starts the host on the database; `rateLimit` as createRouter takes it (default: off). */
export async function startHost(
  mongoUri: string,
  dbName: string,
  rateLimit: AbacLdapSyncDeps['rateLimit'] = false,
  /** Added to the host's environment (BENCH_DIRECTORY_READ, for one). */
  env: Record<string, string> = {},
) {
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
      ...env,
      BENCH_HOST_CONFIG: JSON.stringify([mongoUri, dbName, license, keys.publicKeyPem, rateLimit]),
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
    pid: host.child.pid!,
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
      await post(port, '/bench/idle', {}, '');
      return { ms, phases, hostMs: Number(response.hostMs), answerBytes: Buffer.byteLength(response.body) };
    },
    /**
     * A baseline in the host: E0 (an empty route, the same body) or E1 (E0 plus the login-token read,
     * answered with `answerBytes`); resolves with the client's time.
     */
    async baseline(name: 'e0' | 'e1' | 'cplus', workload: Workload, answerBytes: number) {
      const started = performance.now();
      const response = await post(
        port,
        `/bench/${name}`,
        { ...headers, 'X-Bench-Answer-Bytes': String(answerBytes) },
        JSON.stringify(workload.identifiers),
      );
      const ms = performance.now() - started;
      if (response.status !== 200) throw new Error(`${name} failed: ${response.status}`);
      return ms;
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
    async maxRss() {
      return ((await (await fetch(`${base}/bench/max-rss`)).json()) as { maxRssKiB: number }).maxRssKiB;
    },
    /** The peaks of the host's memory by kind (MiB) since the last call, which resets them. */
    async memoryPeaks(): Promise<Record<string, number>> {
      return JSON.parse((await post(port, '/bench/memory-peaks', headers, '{}')).body) as Record<
        string,
        number
      >;
    },
    /** Profiles the host's CPU until `stopProfile`, which resolves with the V8 profile. */
    async startProfile() {
      await post(port, '/bench/profile/start', headers, '{}');
    },
    async stopProfile(): Promise<CpuProfile> {
      return JSON.parse((await post(port, '/bench/profile/stop', headers, '{}')).body) as CpuProfile;
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

/** A POST over `via` (default: the benchmark's one kept-alive connection), its answer read whole. */
export function post(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string,
  via: Agent = agent,
) {
  return new Promise<{ status: number; body: string; hostMs: string | undefined }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: via,
        headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            hostMs: res.headers['x-bench-host-ms'] as string | undefined,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The parts of a V8 CPU profile the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}
