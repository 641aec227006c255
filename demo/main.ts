// `npm start`: the module mounted in a bare Express host, on embedded servers unless told otherwise.
import { createDefaultLogger } from '../lib/logger';
import { demoBanner } from './banner';
import { startDemo } from './demo-host';

async function main() {
  const demo = await startDemo({
    mongoUri: process.env.MONGODB_URI || undefined,
    dbName: process.env.DEMO_DB_NAME || 'abac_demo',
    port: Number(process.env.PORT ?? 3000),
    logger: createDefaultLogger(),
    population: Number(process.env.DEMO_POPULATION ?? 0),
    rateLimit: rateLimitFromEnvironment(process.env.DEMO_RATE_LIMIT),
  });
  process.stdout.write(demoBanner(demo));
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping the demo host and the servers it started...\n');
    demo.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** DEMO_RATE_LIMIT: `off`, or syncs per minute per caller (default: the module's defaults). */
function rateLimitFromEnvironment(value: string | undefined) {
  if (value === undefined || value === '') return undefined;
  if (value === 'off') return false;
  const perMinute = Number(value);
  if (!Number.isInteger(perMinute) || perMinute < 0)
    throw new Error(`DEMO_RATE_LIMIT: "${value}" is not off or a count`);
  return { syncsPerMinute: perMinute };
}

main().catch((error: unknown) => {
  process.stderr.write(
    `The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
