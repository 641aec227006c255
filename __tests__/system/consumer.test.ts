import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testServers } from '../../harness/test-servers';
import { reportFigure } from '../helpers/figures';
import { ldapSettings, licenseKeys, makeLicense } from '../helpers/host';
import { REPO_ROOT } from '../helpers/paths';

const run = promisify(execFile);
const ROOT = REPO_ROOT;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// Builds the package, packs it, installs the tarball into a new host project, compiles a host written
// against the package name with its published types, and runs one real sync and one directory-wide run
// through it.
describe('the packed package in a host project of its own', () => {
  let project: string;
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('installs, type-checks, mounts and syncs', async () => {
    const started = Date.now();
    project = await mkdtemp(join(tmpdir(), 'abac-consumer-'));
    await run(npm, ['run', 'build'], { cwd: ROOT });
    await run(npm, ['pack', '--pack-destination', project], { cwd: ROOT });
    const [tarball] = (await readdir(project)).filter((name) => name.endsWith('.tgz'));
    expect(tarball).toBeDefined();

    const own = require(join(REPO_ROOT, 'package.json')) as { devDependencies: Record<string, string> };
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'consumer-host',
        private: true,
        dependencies: {
          'abac-ldap-sync': `file:./${tarball}`,
          express: own.devDependencies.express,
          mongoose: own.devDependencies.mongoose,
          'prom-client': '^15.1.3',
        },
        devDependencies: {
          '@types/express': own.devDependencies['@types/express'],
          '@types/node': own.devDependencies['@types/node'],
        },
      }),
    );
    await run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project });
    // What a user of the package reads ships with it; the tests do not.
    const installed = join(project, 'node_modules', 'abac-ldap-sync');
    for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md', 'docs/contract.md', 'docs/configuration.md'])
      expect(existsSync(join(installed, file))).toBe(true);
    expect(existsSync(join(installed, '__tests__'))).toBe(false);
    expect(existsSync(join(installed, 'dist', '__tests__'))).toBe(false);
    await copyFile(join(REPO_ROOT, '__tests__', 'consumer', 'host.ts'), join(project, 'host.ts'));
    await run(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--strict',
        '--noUncheckedIndexedAccess',
        '--target',
        'es2022',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--esModuleInterop',
        '--skipLibCheck',
        '--types',
        'node',
        'host.ts',
      ],
      { cwd: project },
    );

    const { ldap, mongo } = testServers();
    const { stdout, stderr } = await run(process.execPath, ['host.js'], {
      cwd: project,
      env: {
        ...process.env,
        CONSUMER_CONFIG: JSON.stringify({
          mongoUri: mongo.uri,
          dbName: `t_consumer_${process.pid}`,
          license: makeLicense(),
          publicKey: licenseKeys.publicKeyPem,
          settings: ldapSettings(),
        }),
      },
    });
    expect(ldap.url).toBeTruthy();
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      status: 200,
      summary: expect.objectContaining({ matched: 1, updated: 1 }),
      stored: expect.arrayContaining([{ key: 'department', values: ['eng', 'eng-platform'] }]),
      runState: 'completed',
      servedOpenApi: '3.1.0',
      packagedOpenApi: '3.1.0',
    });
    // The run's map was kept in a worker thread, started from the installed package's JavaScript.
    expect(stderr).toContain('"mapHeldIn":"a worker thread"');
    reportFigure(
      'consumer',
      `build, pack, install, compile, one sync and one run in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});
