// Pure: what `npm start` prints once the demo host is up. No I/O here.
import { SETTING_DEFAULTS } from '../lib/settings';

/** The guard's floor (ABAC_Sync_Guard_Min_Users' default): it never blocks this many people or fewer. */
const GUARD_MIN_USERS = SETTING_DEFAULTS.ABAC_Sync_Guard_Min_Users;

/** What the banner tells: where everything is, and how to reach it. */
export interface BannerFacts {
  syncUrl: string;
  /** The admin page, with the demo admin's one-click sign-in in its fragment. */
  adminUrl: string;
  metricsUrl: string;
  headers: Record<string, string>;
  exampleBody: object;
  mongo: string;
  /** The CLI's options that reach the demo's database, and what must precede the command (an env var). */
  cliDatabase: string;
  cliPrefix: string;
  ldap: string;
  /** How many people the embedded demo directory holds (undefined: a directory the settings name). */
  directoryUsers?: number;
}

export function demoBanner(demo: BannerFacts): string {
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
    '',
    'Or from the command line, on the same database:',
    '',
    `  ${demo.cliPrefix}npm run cli -- sync-all --dry-run ${demo.cliDatabase}`,
    '',
    ...(demo.directoryUsers !== undefined && demo.directoryUsers <= GUARD_MIN_USERS
      ? [
          `The demo directory holds ${demo.directoryUsers} users: too few for the mass-revocation guard to stop`,
          `anything, as it never blocks ${GUARD_MIN_USERS} people or fewer. Start with DEMO_POPULATION=3000 to see it.`,
          '',
        ]
      : []),
    'Ctrl-C stops the host and every server it started.',
    '',
  ].join('\n');
}

/** `uri` naming `database`, so a tool given it alone reaches the demo's data. */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
