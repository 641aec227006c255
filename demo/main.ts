// `npm start`: the module mounted in a bare Express host, on embedded servers unless told otherwise.
import { createDefaultLogger } from '../lib/logger';
import { startDemo, type DemoHost } from './demo-host';

async function main() {
  const demo = await startDemo({
    mongoUri: process.env.MONGODB_URI || undefined,
    dbName: process.env.DEMO_DB_NAME || 'abac_demo',
    port: Number(process.env.PORT ?? 3000),
    logger: createDefaultLogger(),
    population: Number(process.env.DEMO_POPULATION ?? 0),
    rateLimit: rateLimitFromEnvironment(process.env.DEMO_RATE_LIMIT),
  });
  process.stdout.write(describe(demo));
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

function describe(demo: DemoHost): string {
  const headers = Object.entries(demo.headers)
    .map(([name, value]) => `-H '${name}: ${value}'`)
    .join(' ');
  return [
    '',
    'ABAC LDAP sync demo host is up.',
    `  Admin page    ${demo.adminUrl}  (opens signed in as the demo admin)`,
    `  Endpoint      POST ${demo.syncUrl}`,
    `  OpenAPI       GET  ${demo.syncUrl}/openapi.json`,
    `  Metrics       GET  ${demo.metricsUrl}`,
    `  MongoDB       ${demo.mongo}`,
    `  LDAP          ${demo.ldap}`,
    `  X-User-Id     ${demo.headers['X-User-Id']}`,
    `  X-Auth-Token  ${demo.headers['X-Auth-Token']}`,
    '',
    'Sync three users. bob moved from engineering to sales, so he is removed from the ABAC room',
    '"engineering"; carol gains a department and keeps her rooms; alice gets her first attributes:',
    '',
    `  curl -s -X POST ${demo.syncUrl} ${headers} \\`,
    `    -H 'Content-Type: application/json' -d '${JSON.stringify(demo.exampleBody)}'`,
    '',
    'Add "dryRun": true to the body to preview without writing. A restart puts the demo data back.',
    '',
    'Sync every LDAP user in a directory-wide run, then follow it (state, phase, progress):',
    '',
    `  curl -s -X POST ${demo.syncUrl}/jobs ${headers}`,
    `  curl -s ${demo.syncUrl}/jobs ${headers}`,
    'Ctrl-C stops the host and every server it started.',
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `The demo could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
