// How long the TypeScript entry points take to start, and what the demo host holds once up, under each
// way of running TypeScript: `npm run bench:startup`. Runners alternate within each round, so both see
// the same machine; the figures are medians and paired ratios.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(__dirname, '..');
const ROUNDS = Number(process.env.STARTUP_ROUNDS ?? 5);
/** ts-node only where it is still installed: it was the runner before tsx, measured against it once. */
const RUNNERS: Record<string, string[]> = {
  ...(installed('ts-node') ? { 'ts-node': ['--require', 'ts-node/register/transpile-only'] } : {}),
  tsx: ['--import', 'tsx'],
};

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

interface Start {
  ms: number;
  rssMiB?: number;
}

/** Starts `entry` under `runner`; resolves once `ready` appears on stdout (or the process exits). */
function start(runner: string, entry: string, args: string[], ready: RegExp | undefined): Promise<Start> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(process.execPath, [...RUNNERS[runner]!, join(ROOT, entry), ...args], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready && ready.test(output)) {
        const ms = performance.now() - began;
        const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        child.once('exit', () => resolve({ ms, rssMiB: rss ? Number(rss[1]) / 1024 : undefined }));
        child.kill('SIGTERM');
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!ready) resolve({ ms: performance.now() - began });
      else if (!ready.test(output))
        reject(new Error(`${entry} under ${runner} exited ${code} before it was up`));
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(name: string, entry: string, args: string[], ready?: RegExp) {
  const runs: Record<string, Start[]> = Object.fromEntries(
    Object.keys(RUNNERS).map((runner) => [runner, []]),
  );
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const names = Object.keys(RUNNERS);
    const order = round % 2 === 0 ? names : [...names].reverse();
    const times: Record<string, number> = {};
    for (const runner of order) {
      const run = await start(runner, entry, args, ready);
      runs[runner]!.push(run);
      times[runner] = run.ms;
    }
    if (times['ts-node'] !== undefined) ratios.push(times['tsx']! / times['ts-node']);
    process.stderr.write(`[startup] ${name} round ${round + 1}/${ROUNDS}\n`);
  }
  for (const [runner, list] of Object.entries(runs)) {
    const rss = list.flatMap((run) => (run.rssMiB === undefined ? [] : [run.rssMiB]));
    console.log(
      `${name} · ${runner}: ${Math.round(median(list.map((run) => run.ms)))} ms` +
        (rss.length > 0 ? ` · RSS ${median(rss).toFixed(0)} MiB` : ''),
    );
  }
  if (ratios.length > 0)
    console.log(`${name} · tsx / ts-node, paired per round: median ${median(ratios).toFixed(2)}`);
}

async function main() {
  await measure('CLI --help', 'app/cli/main.ts', ['--help']);
  await measure('demo host up', 'demo/main.ts', [], /demo host is up/);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
