// The benchmark's host process (variant A): the router mounted in a bare Express app, logs as JSON on stderr.
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import express from 'express';
import mongoose from 'mongoose';
import { createRouter, type AbacLdapSyncDeps } from '../app/create-router';
import { hashLoginToken } from '../lib/access/authenticator';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import { createDefaultLogger, silentLogger } from '../lib/logger';
import { systemClock } from '../lib/clock';
import { syncConfiguration } from '../lib/sync/sync-configuration';
import { createModels } from '../models';
import { MongoSettingsSource } from '../mongo/mongo-settings-source';
import { batchedFloor, type BenchContext } from './variants';
import type { Identifiers } from './workloads';

async function main() {
  const [mongoUri, dbName, license, publicKey, rateLimit] = JSON.parse(
    process.env.BENCH_HOST_CONFIG ?? '[]',
  ) as [string, string, string, string, AbacLdapSyncDeps['rateLimit']?];
  if (!mongoUri || !dbName || !license || !publicKey) throw new Error('BENCH_HOST_CONFIG is missing');
  const connection = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
  const { router, idle } = await createRouter({
    connection,
    license: { license, publicKey },
    logger: createDefaultLogger(),
    // The benchmark measures the sync; its requests would otherwise count against the admin's limit (a
    // host measuring the limits' own cost sets limits no request reaches).
    rateLimit: rateLimit ?? false,
    // BENCH_DIRECTORY_READ=lookups|subtree: how directory-wide runs read the directory (default: the
    // module's).
    // BENCH_MAP_IN_THREAD=1: the map stays in the host's thread instead of a worker's.
    jobRunner: {
      ...(process.env.BENCH_DIRECTORY_READ === 'lookups' || process.env.BENCH_DIRECTORY_READ === 'subtree'
        ? { directoryRead: process.env.BENCH_DIRECTORY_READ }
        : {}),
      ...(process.env.BENCH_MAP_IN_THREAD === '1' ? { mapHeapLimitMb: false as const } : {}),
    },
  });
  const app = express();
  // How long the host held each request, from its arrival to its answer's serialisation: what the client
  // measures beyond it is the connection's and the client's own time.
  app.use((_req, res, next) => {
    const arrived = performance.now();
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      res.setHeader('X-Bench-Host-Ms', (performance.now() - arrived).toFixed(3));
      return json(body);
    };
    next();
  });
  app.use('/api/v1', router);
  // Baselines in the same process. E0: an empty route taking the same body. E1: E0 plus the login-token
  // read A makes first, answered with a body of A's size (X-Bench-Answer-Bytes).
  app.post('/bench/e0', express.json({ limit: '1mb' }), (_req, res) => {
    res.json({ success: true });
  });
  /** The login-token check A makes first; false after answering 401. */
  const authenticated = async (req: express.Request, res: express.Response): Promise<boolean> => {
    const user = await connection
      .collection<{ _id: string; services?: { resume?: { loginTokens?: { hashedToken: string }[] } } }>(
        'users',
      )
      .findOne(
        { _id: req.header('x-user-id') ?? '' },
        { projection: { active: 1, username: 1, roles: 1, 'services.resume.loginTokens': 1 } },
      );
    const hashed = hashLoginToken(req.header('x-auth-token') ?? '');
    const tokens = user?.services?.resume?.loginTokens;
    if (tokens?.some((token) => token.hashedToken === hashed)) return true;
    res.status(401).json({ success: false });
    return false;
  };
  const answerOfSize = (req: express.Request, res: express.Response) => {
    const padding = Math.max(0, Number(req.header('x-bench-answer-bytes') ?? 0) - 30);
    res.json({ success: true, padding: 'x'.repeat(padding) });
  };
  app.post('/bench/e1', express.json({ limit: '1mb' }), async (req, res) => {
    if (await authenticated(req, res)) answerOfSize(req, res);
  });
  // C+: E1 around C's reads and writes, the writes shaped as A sends them (conditional, with the audit
  // outbox), on the module's LDAP client and settings, over one session kept open as A's pool keeps one.
  const floorContext = floorInHost(connection);
  app.post('/bench/cplus', express.json({ limit: '1mb' }), async (req, res) => {
    if (!(await authenticated(req, res))) return;
    await batchedFloor(await floorContext(), req.body as Identifiers, 'asTheModule');
    answerOfSize(req, res);
  });
  // The peaks of the host's memory, by kind, sampled every 20 ms since the last reset (`npm run profile`
  // with PROFILE_RUN: what a run's peak RSS is made of).
  const peaks = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  setInterval(() => {
    const usage = process.memoryUsage();
    for (const kind of Object.keys(peaks) as (keyof typeof peaks)[])
      peaks[kind] = Math.max(peaks[kind], usage[kind]);
  }, 20).unref();
  app.post('/bench/memory-peaks', (_req, res) => {
    const mib = Object.fromEntries(
      Object.entries(peaks).map(([kind, bytes]) => [kind, Math.round(bytes / 1048576)]),
    );
    for (const kind of Object.keys(peaks) as (keyof typeof peaks)[]) peaks[kind] = 0;
    res.json(mib);
  });
  app.get('/bench/max-rss', (_req, res) => {
    res.json({
      maxRssKiB: process.resourceUsage().maxRSS,
      rssKiB: Math.round(process.memoryUsage().rss / 1024),
    });
  });
  // Resolves once the work the host defers past its answers is done: the bench waits for it (untimed)
  // before the next variant, so B and C never run beside A's tail.
  app.post('/bench/idle', async (_req, res) => {
    await idle();
    res.json({ idle: true });
  });
  // A CPU profile of the requests between start and stop (`npm run profile`), not of the start-up.
  const inspector = new Session();
  inspector.connect();
  app.post('/bench/profile/start', async (_req, res) => {
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
    res.json({ started: true });
  });
  app.post('/bench/profile/stop', async (_req, res) => {
    const { profile } = await inspector.post('Profiler.stop');
    res.json(profile);
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

/** C's context in this process: the module's models, settings and LDAP client; the session opened once. */
function floorInHost(connection: mongoose.Connection): () => Promise<BenchContext> {
  let context: Promise<BenchContext> | undefined;
  return () =>
    (context ??= (async () => {
      const models = createModels(connection);
      const settings = new MongoSettingsSource({
        settings: models.settings,
        clock: systemClock,
        cacheTtlMs: 0,
      });
      const configuration = syncConfiguration(await settings.current());
      const session = await new LdaptsDirectory(silentLogger).open(configuration.connection);
      return { models, session, mapping: configuration.mapping, baseDN: configuration.search.baseDN };
    })());
}

main().catch((error: unknown) => {
  process.stderr.write(`bench host failed: ${String(error)}\n`);
  process.exit(1);
});
