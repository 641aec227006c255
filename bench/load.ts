// `npm run test:load`: sustained load on the demo host (its own process) with autocannon, bounded in time
// and connections. Fails on any error, timeout or non-2xx answer other than a documented 429.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startTsProcess } from '../harness/ts-process';
import { DEMO_ADMIN, populationUsername } from '../demo/seed';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 8);
const POPULATION = 1000;

function log(message: string) {
  process.stderr.write(`[load] ${message}\n`);
}

/** 10–100 distinct users of the population, at random. */
function randomBody(): string {
  const count = 10 + Math.floor(Math.random() * 91);
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(Math.random() * POPULATION));
  return JSON.stringify({ usernames: [...chosen].map(populationUsername) });
}

async function startDemoHost() {
  const host = await startTsProcess(join(__dirname, '..', 'demo', 'main.ts'), {
    env: {
      ...process.env,
      PORT: '0',
      DEMO_DB_NAME: `abac_load_${process.pid}`,
      DEMO_POPULATION: String(POPULATION),
      // Measured without the per-caller limit (one admin drives all the load); 429s stay allowed.
      DEMO_RATE_LIMIT: 'off',
    },
    ready: /Endpoint\s+POST\s+(\S+)/,
  });
  const url = host.readyLine[1]!;
  return {
    url,
    peakRssMiB: () => {
      const status = readFileSync(`/proc/${host.child.pid}/status`, 'utf8');
      return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
    },
    async stop() {
      host.child.kill('SIGTERM');
      await host.exited;
    },
  };
}

async function main() {
  log(`starting the demo host with ${POPULATION} generated people...`);
  const host = await startDemoHost();
  let failed = false;
  try {
    log(`${SECONDS} s, ${CONNECTIONS} connections, 10-100 users per sync against ${host.url}`);
    const result = await autocannon({
      url: host.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-user-id': DEMO_ADMIN.id,
            'x-auth-token': DEMO_ADMIN.token,
          },
          setupRequest: (request) => ({ ...request, body: randomBody() }),
        },
      ],
    });
    const statuses =
      (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
    const tooMany = statuses['429']?.count ?? 0;
    const unexpected = result.non2xx - tooMany;
    const report = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length },
      seconds: SECONDS,
      connections: CONNECTIONS,
      usersPerSync: '10-100 (uniform)',
      requests: result.requests.total,
      requestsPerSecond: Math.round(result.requests.average * 10) / 10,
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      statuses: Object.fromEntries(Object.entries(statuses).map(([code, stat]) => [code, stat.count])),
      errors: result.errors,
      timeouts: result.timeouts,
      hostPeakRssMiB: host.peakRssMiB(),
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(join(__dirname, 'results', 'load-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      [
        '',
        `Load ${report.date} · ${report.machine.cores} cores · ${SECONDS} s · ${CONNECTIONS} connections · 10-100 users per sync`,
        `  requests ${report.requests} (${report.requestsPerSecond}/s) · p50 ${report.latencyMs.p50} ms · p99 ${report.latencyMs.p99} ms · max ${report.latencyMs.max} ms`,
        `  statuses ${JSON.stringify(report.statuses)} · errors ${report.errors} · timeouts ${report.timeouts}`,
        `  host peak RSS ${report.hostPeakRssMiB} MiB`,
        '',
      ].join('\n'),
    );
    failed = result.errors > 0 || result.timeouts > 0 || unexpected > 0 || result['2xx'] === 0;
    if (failed) log('FAILED: errors, timeouts or unexpected statuses (see above)');
  } finally {
    await host.stop();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`[load] failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
