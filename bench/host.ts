// The benchmark's host process (variant A): the router mounted in a bare Express app, logs as JSON on stderr.
import express from 'express';
import mongoose from 'mongoose';
import { createRouter } from '../lib/create-router';
import { createDefaultLogger } from '../lib/logger';

async function main() {
  const [mongoUri, dbName, license, publicKey] = JSON.parse(
    process.env.BENCH_HOST_CONFIG ?? '[]',
  ) as string[];
  if (!mongoUri || !dbName || !license || !publicKey) throw new Error('BENCH_HOST_CONFIG is missing');
  const connection = await mongoose.createConnection(mongoUri, { dbName }).asPromise();
  const { router } = await createRouter({
    connection,
    license: { license, publicKey },
    logger: createDefaultLogger(),
    // The benchmark measures the sync; its requests would otherwise count against the admin's limit.
    rateLimit: false,
  });
  const app = express();
  app.use('/api/v1', router);
  app.get('/bench/max-rss', (_req, res) => {
    res.json({
      maxRssKiB: process.resourceUsage().maxRSS,
      rssKiB: Math.round(process.memoryUsage().rss / 1024),
    });
  });
  app.get('/bench/cpu', (_req, res) => {
    const { user, system } = process.cpuUsage();
    res.json({ cpuMs: (user + system) / 1000 });
  });
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench host failed: ${String(error)}\n`);
  process.exit(1);
});
