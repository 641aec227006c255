import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { testServers } from '../../harness/test-servers';
import { GatedDirectory } from '../helpers/directories';
import {
  ADMIN_HEADERS,
  seedAliceInSalesRoom,
  setSettings,
  startTestHost,
  type TestHost,
} from '../helpers/host';
import { FAST_RUNNER, JOBS_URL, readJob, startRun, waitForEnd } from '../helpers/jobs';
import { REPO_ROOT } from '../helpers/paths';

const CLI = join(REPO_ROOT, 'app', 'cli', 'main.ts');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as an operator would (its own process); `whenStderr` reacts to its progress output. */
function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; onStderr?: (text: string) => void } = {},
) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: options.env ?? { ...process.env, MONGODB_URI: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    options.onStderr?.(stderr);
  });
  return new Promise<CliResult>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** `abac-ldap-sync`, the package's command line, against the real slapd and MongoDB-wire server. */
describe('the CLI', () => {
  let host: TestHost;
  let database: string[];
  const directory = new GatedDirectory();

  beforeAll(async () => {
    // This host runs no runs: the CLI's own process does, as on a machine where no host is up.
    host = await startTestHost({ jobRunner: false, directory });
    database = ['--mongo-uri', testServers().mongo.uri, '--db', host.connection.name];
    await seedAliceInSalesRoom(host.models);
    await host.models.users.create({ _id: 'u-bob', username: 'bob', active: true, ldap: true });
  });
  afterAll(() => host?.close());

  it('documents itself with --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('abac-ldap-sync sync-all --mongo-uri <uri>');
    expect(result.stdout).toContain('Exit codes:');
  });

  it('refuses a bad command line with exit code 64 and says why (every case: cli-arguments.test.ts)', async () => {
    const result = await runCli(['sync-all', '--mongo-uri', 'mongodb://x', '--force']);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("Unknown option '--force'");
  });

  it('says MongoDB is unavailable with exit code 69', async () => {
    const result = await runCli(['jobs', '--mongo-uri', 'mongodb://127.0.0.1:1/x']);
    expect(result.code).toBe(69);
    expect(result.stderr).toContain('MongoDB is unavailable');
  }, 20_000);

  it('runs a dry run with progress lines, writes nothing, and prints the plan it kept (changes)', async () => {
    const result = await runCli(['sync-all', ...database, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Run \w+ queued \(dry run\)/);
    expect(result.stderr).toMatch(/planning: \d+\/2 users planned/);
    expect(result.stdout).toMatch(/completed \(dry run\) {2}cli .* 2 users: 2 updated/);
    expect((await host.models.users.findById('u-bob').lean())?.abacAttributes).toBeUndefined();

    // The plan it kept, printed by `changes`: one line per user, or JSON lines.
    const jobId = /Run (\w+) queued/.exec(result.stderr)![1]!;
    // The suggested commands reach the same database, as the command was given it.
    expect(result.stderr).toContain(
      `Review its plan with: abac-ldap-sync changes ${jobId} ${database.join(' ')}\n`,
    );
    const lines = await runCli(['changes', jobId, ...database]);
    expect(lines.code).toBe(0);
    expect(lines.stdout).toMatch(
      /^u-alice {2}alice {2}updated {2}\+.* {2}-department=sales {2}leaves sales$/m,
    );
    expect(lines.stdout).toMatch(/^u-bob {2}bob {2}updated {2}\+department=eng/m);
    expect(lines.stderr).toContain('2 planned changes.');
    const json = await runCli(['changes', jobId, ...database, '--json', '--status', 'updated']);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)._id),
    ).toEqual(['u-alice', 'u-bob']);
    const leaving = await runCli(['changes', jobId, ...database, '--loses-rooms', '--username', 'AL']);
    expect(leaving.stdout).toMatch(/^u-alice {2}alice .*leaves sales\n$/);
    expect(leaving.stderr).toContain('1 planned change.');
    const none = await runCli(['changes', 'nope', ...database]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('error-sync-job-not-found');
  }, 30_000);

  it('runs a directory-wide sync to its end and prints the run as JSON (exit 0)', async () => {
    const result = await runCli(['sync-all', ...database, '--json']);
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout);
    expect(job).toMatchObject({ state: 'completed', trigger: 'cli', dryRun: false });
    expect(job.actor).toEqual({ type: 'system', jobId: job._id });
    expect(job.summary).toMatchObject({ matched: 2, updated: 2, roomsRevoked: 1 });
    expect((await host.models.users.findById('u-bob').lean())?.abacAttributes).toBeDefined();
    expect(await host.models.subscriptions.countDocuments({ rid: 'r-sales' })).toBe(0);
    const events = await host.models.serverEvents.find({ t: 'abac.subject.attribute.changed' }).lean();
    expect(events.map((event) => event.actor)).toEqual([
      { type: 'system', jobId: job._id },
      { type: 'system', jobId: job._id },
    ]);
  });

  it('lists the runs, newest first, as JSON and as lines', async () => {
    const json = await runCli(['jobs', ...database, '--json']);
    if (json.code !== 0) throw new Error(json.stderr);
    expect(json.code).toBe(0);
    const jobs = JSON.parse(json.stdout) as Array<{ dryRun: boolean; state: string }>;
    expect(jobs.map((job) => [job.dryRun, job.state])).toEqual([
      [false, 'completed'],
      [true, 'completed'],
    ]);
    const lines = await runCli(['jobs', ...database, '--limit', '1']);
    expect(lines.code).toBe(0);
    expect(lines.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('exits 3 when the settings refuse a run, starting nothing', async () => {
    await setSettings(host.models, { ABAC_Enabled: false });
    try {
      const before = await host.models.syncJobs.countDocuments();
      const result = await runCli(['sync-all', ...database]);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('error-abac-not-enabled');
      expect(await host.models.syncJobs.countDocuments()).toBe(before);
    } finally {
      await setSettings(host.models, { ABAC_Enabled: true });
    }
  });

  it('exits 1 when the run fails, with the reason in the JSON', async () => {
    await setSettings(host.models, { LDAP_Port: 1 });
    try {
      const result = await runCli(['sync-all', ...database, '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({
        state: 'failed',
        error: { code: 'error-ldap-unavailable' },
      });
    } finally {
      await setSettings(host.models, { LDAP_Port: Number(new URL(testServers().ldap.url).port) });
    }
  });

  it("applies a dry run's plan as reviewed with apply <jobId>, once (exit 3 the second time)", async () => {
    const synced = (await host.models.users.findById('u-bob').lean())?.abacAttributes;
    await host.models.users.updateOne(
      { _id: 'u-bob' },
      { $set: { abacAttributes: [{ key: 'department', values: ['retired'] }] } },
    );
    const dry = await runCli(['sync-all', ...database, '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    const reviewed = JSON.parse(dry.stdout) as { _id: string; summary: { updated: number } };
    expect(reviewed.summary.updated).toBeGreaterThanOrEqual(1);
    const applied = await runCli(['apply', reviewed._id, ...database]);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain(`queued: it applies the plan of ${reviewed._id}.`);
    const planned = reviewed.summary.updated;
    expect(applied.stdout).toContain(`${planned} users: ${planned} updated`);
    expect(applied.stdout).toContain(`0 stale (applies the plan of ${reviewed._id})`);
    expect((await host.models.users.findById('u-bob').lean())?.abacAttributes).toEqual(synced);
    const again = await runCli(['apply', reviewed._id, ...database]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('error-sync-plan-already-applied');
    const stale = await runCli(['changes', reviewed._id, ...database, '--stale']);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toContain('0 planned changes.');
  }, 30_000);

  it('undoes the first run with undo --job <id> --apply: alice gets sales back, bob (changed since) is left', async () => {
    const jobs = JSON.parse((await runCli(['jobs', ...database, '--json'])).stdout) as Array<{
      _id: string;
      dryRun: boolean;
      reviewedJobId?: string;
    }>;
    const first = jobs.filter((job) => !job.dryRun && !job.reviewedJobId).at(-1)!;
    const refused = await runCli(['undo', '--request', 'never-made', ...database]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('error-sync-change-set-not-found');

    const result = await runCli(['undo', '--job', first._id, '--apply', ...database]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`it plans the undo of ${first._id}.`);
    expect(result.stdout).toMatch(/u-alice {2}alice {2}updated .* {2}gets back sales/);
    expect(result.stdout).toMatch(/u-bob {2}bob {2}unchanged {2}stale/);
    expect(result.stdout).toContain(`1 rooms given back, undoes ${first._id}`);
    expect(await host.models.subscriptions.collection.findOne({ _id: 's-alice' as never })).toMatchObject({
      rid: 'r-sales',
      u: { _id: 'u-alice', username: 'alice' },
    });
    expect((await host.models.users.findById('u-alice').lean())?.abacAttributes).toEqual([
      { key: 'department', values: ['sales'] },
    ]);
    expect((await host.models.rooms.findById('r-sales').lean())?.usersCount).toBe(3);
  }, 30_000);
});

/** The CLI follows a run a host process is already running, and exits 2 when it is cancelled. */
describe('the CLI following a host’s run', () => {
  let host: TestHost;
  const directory = new GatedDirectory();

  beforeAll(async () => {
    host = await startTestHost({ jobRunner: FAST_RUNNER, directory });
    await host.models.users.create({ _id: 'u-bob', username: 'bob', active: true, ldap: true });
  });
  afterAll(() => host?.close());

  it('follows the active run instead of starting one, and exits 2 once it is cancelled', async () => {
    let release!: () => void;
    directory.gate = new Promise((resolve) => {
      release = resolve;
    });
    const started = await startRun(host.app);
    const deadline = Date.now() + 10_000;
    while ((await readJob(host.app, started._id)).state !== 'running') {
      if (Date.now() > deadline) throw new Error('the host did not take the run');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    let cancelled = false;
    const result = await runCli(
      ['sync-all', '--mongo-uri', testServers().mongo.uri, '--db', host.connection.name],
      {
        onStderr: (text) => {
          if (cancelled || !text.includes('following it')) return;
          cancelled = true;
          void request(host.app)
            .post(`${JOBS_URL}/${started._id}/cancel`)
            .set(ADMIN_HEADERS)
            .then(() => release());
        },
      },
    );
    expect(result.stderr).toContain(`A run is already running (${started._id}): following it.`);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`${started._id}  cancelled`);
    expect((await waitForEnd(host.app, started._id)).state).toBe('cancelled');
    expect(await host.models.syncJobs.countDocuments()).toBe(1);
  });
});
