import { parseArgs } from 'node:util';

export const USAGE = `abac-ldap-sync: directory-wide ABAC attribute syncs from the command line

Usage:
  abac-ldap-sync sync-all --mongo-uri <uri> [--db <name>] [--dry-run] [--json] [--no-wait]
  abac-ldap-sync jobs     --mongo-uri <uri> [--db <name>] [--limit <n>] [--json]
  abac-ldap-sync changes <jobId> --mongo-uri <uri> [--db <name>] [--status <s>] [--stale]
                                 [--loses-rooms] [--username <start>] [--json]
  abac-ldap-sync apply <jobId>   --mongo-uri <uri> [--db <name>] [--json] [--no-wait]
  abac-ldap-sync undo (--job <id> | --request <id>) --mongo-uri <uri> [--db <name>] [--apply] [--json]
  abac-ldap-sync --help

Commands:
  sync-all   Starts a run over every active LDAP user (or follows the run already queued or running) and
             shows its progress until it ends: phase, processed / total, users/s, ETA. This process takes part
             in running it, with any host process that mounts the router.
  jobs       Lists the most recent runs, newest first.
  changes    Prints the plan a dry run or a blocked run kept: one line per user (or --json), every page.
  apply      Applies the plan a dry run or a blocked run kept, as reviewed (the directory is not read
             again), and follows that run like sync-all. Users changed since the plan are left as they are
             and counted stale (list them with changes <jobId> --stale).
  undo       Plans the undo of a run (--job: its id) or of a named-users sync or feed batch (--request: its
             request id) and follows that planning like sync-all: each user's attributes before it, and each
             membership it ended given back with the same subscription; users changed since are left stale.
             With --apply, prints the plan and applies it, following that run too.

Options:
  --mongo-uri <uri>  The chat server's MongoDB (default: the MONGODB_URI environment variable).
  --db <name>        The database, when the URI names none.
  --dry-run          Plan only: nothing is written but the run's own staging.
  --no-wait          Start the run and exit at once (it goes on in the host processes).
  --limit <n>        How many runs to list (1 to 100, default 20).
  --status <s>       changes: only updated, cleared or unchanged (users who only leave rooms).
  --stale            changes: only the users an apply of the plan left alone because they changed since.
  --loses-rooms      changes: only users who would leave a room, whatever their status.
  --username <start> changes: only usernames starting with this text, ignoring case.
  --job <id>         undo: the run (or applied plan) to take back.
  --request <id>     undo: the named-users sync's request id (its X-Request-Id), or the feed batch's id.
  --apply            undo: apply the plan once it is made, after printing it.
  --json             Machine-readable output on stdout: the run (sync-all) or the list (jobs). No progress.
  -h, --help         This text.

Ctrl-C while following a run asks it to stop at its next batch (what it applied stays applied); a second
Ctrl-C leaves at once, and the run is resumed by a host process.

Exit codes:
  0   the run completed (or, with --no-wait, was queued); jobs listed
  1   the run failed (the job's error says why)
  2   the run was cancelled
  3   the run could not start (ABAC or LDAP off, settings unusable); changes and apply: no such plan
      (unknown run, a run that keeps no plan, an expired plan); apply: the plan is being applied or was
      applied, or another run is queued or running; undo: no such change set, its journal expired, a dry
      run
  4   the run was blocked: its plan takes values from more users than the guard allows (nothing applied)
  64  usage error
  69  MongoDB unavailable
  130 left with a second Ctrl-C (the run goes on)`;

export const EXIT = {
  completed: 0,
  failed: 1,
  cancelled: 2,
  refused: 3,
  blocked: 4,
  usage: 64,
  unavailable: 69,
  left: 130,
} as const;

/** How a followed run's end becomes the process's exit code. */
export function exitCodeOf(state: string): number {
  if (state === 'completed') return EXIT.completed;
  if (state === 'cancelled') return EXIT.cancelled;
  if (state === 'blocked') return EXIT.blocked;
  return EXIT.failed;
}

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'sync-all'; mongoUri: string; db?: string; dryRun: boolean; json: boolean; wait: boolean }
  | { kind: 'jobs'; mongoUri: string; db?: string; limit: number; json: boolean }
  | {
      kind: 'changes';
      mongoUri: string;
      db?: string;
      jobId: string;
      status?: 'updated' | 'cleared' | 'unchanged';
      stale: boolean;
      losesRooms: boolean;
      username?: string;
      json: boolean;
    }
  | { kind: 'apply'; mongoUri: string; db?: string; jobId: string; json: boolean; wait: boolean }
  | {
      kind: 'undo';
      mongoUri: string;
      db?: string;
      target: { jobId: string } | { requestId: string };
      apply: boolean;
      json: boolean;
    };

const COMMANDS = ['sync-all', 'jobs', 'changes', 'apply', 'undo'] as const;

export type Parsed = { ok: true; command: CliCommand } | { ok: false; error: string };

/** The command line, read strictly: an unknown option or command is a usage error, never ignored. */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'mongo-uri': { type: 'string' },
        db: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        limit: { type: 'string' },
        status: { type: 'string' },
        stale: { type: 'boolean' },
        'loses-rooms': { type: 'boolean' },
        username: { type: 'string' },
        job: { type: 'string' },
        request: { type: 'string' },
        apply: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const [name, ...extra] = positionals;
  if (values.help || name === 'help') return { ok: true, command: { kind: 'help' } };
  if (!name) return { ok: false, error: 'a command is required (sync-all, jobs, changes, apply or undo)' };
  if (!(COMMANDS as readonly string[]).includes(name))
    return { ok: false, error: `unknown command: ${name}` };
  const takesJobId = name === 'changes' || name === 'apply';
  const jobId = takesJobId ? extra.shift() : undefined;
  if (takesJobId && !jobId) return { ok: false, error: `${name} needs the run id: ${name} <jobId>` };
  if (extra.length > 0) return { ok: false, error: `unexpected argument: ${extra[0]}` };
  for (const option of ['status', 'stale', 'loses-rooms', 'username'])
    if (values[option] !== undefined && name !== 'changes')
      return { ok: false, error: `${name} takes no --${option}` };
  for (const option of ['job', 'request', 'apply'])
    if (values[option] !== undefined && name !== 'undo')
      return { ok: false, error: `${name} takes no --${option}` };

  const mongoUri = (values['mongo-uri'] as string | undefined) ?? env.MONGODB_URI;
  if (!mongoUri) return { ok: false, error: '--mongo-uri is required (or set MONGODB_URI)' };
  const db = values.db as string | undefined;
  const json = values.json === true;
  if (name === 'changes') {
    if (values['dry-run'] || values['no-wait'] || values.limit !== undefined)
      return { ok: false, error: 'changes takes no --dry-run, --no-wait or --limit' };
    const status = values.status as string | undefined;
    if (status !== undefined && !['updated', 'cleared', 'unchanged'].includes(status))
      return { ok: false, error: '--status must be updated, cleared or unchanged' };
    const username = values.username as string | undefined;
    if (username !== undefined && username.length === 0)
      return { ok: false, error: '--username needs the start of a username' };
    return {
      ok: true,
      command: {
        kind: 'changes',
        mongoUri,
        ...(db ? { db } : {}),
        jobId: jobId!,
        ...(status ? { status: status as 'updated' | 'cleared' | 'unchanged' } : {}),
        stale: values.stale === true,
        losesRooms: values['loses-rooms'] === true,
        ...(username !== undefined ? { username } : {}),
        json,
      },
    };
  }
  if (name === 'undo') {
    if (values['dry-run'] || values['no-wait'] || values.limit !== undefined)
      return { ok: false, error: 'undo takes no --dry-run, --no-wait or --limit' };
    const job = values.job as string | undefined;
    const requestId = values.request as string | undefined;
    if ((job === undefined) === (requestId === undefined) || (job ?? requestId)!.trim() === '')
      return { ok: false, error: 'undo needs exactly one of --job <id> and --request <id>' };
    return {
      ok: true,
      command: {
        kind: 'undo',
        mongoUri,
        ...(db ? { db } : {}),
        target: job !== undefined ? { jobId: job } : { requestId: requestId! },
        apply: values.apply === true,
        json,
      },
    };
  }
  if (name === 'apply') {
    if (values['dry-run'] || values.limit !== undefined)
      return { ok: false, error: 'apply takes no --dry-run or --limit' };
    return {
      ok: true,
      command: {
        kind: 'apply',
        mongoUri,
        ...(db ? { db } : {}),
        jobId: jobId!,
        json,
        wait: values['no-wait'] !== true,
      },
    };
  }
  if (name === 'jobs') {
    if (values['dry-run'] || values['no-wait'])
      return { ok: false, error: 'jobs takes no --dry-run or --no-wait' };
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      return { ok: false, error: '--limit must be a whole number from 1 to 100' };
    return { ok: true, command: { kind: 'jobs', mongoUri, ...(db ? { db } : {}), limit, json } };
  }
  if (values.limit !== undefined) return { ok: false, error: 'sync-all takes no --limit' };
  return {
    ok: true,
    command: {
      kind: 'sync-all',
      mongoUri,
      ...(db ? { db } : {}),
      dryRun: values['dry-run'] === true,
      json,
      wait: values['no-wait'] !== true,
    },
  };
}

/**
 * The options a suggested follow-up command needs to reach the same database: `--mongo-uri` as it was given
 * (one holding a password is never printed: a placeholder asks for it again) and `--db`. Nothing for a URI
 * from MONGODB_URI, which the next command reads too.
 */
export function followUpOptions(argv: readonly string[]): string {
  const { values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    options: { 'mongo-uri': { type: 'string' }, db: { type: 'string' } },
  });
  const options: string[] = [];
  const uri = values['mongo-uri'];
  if (typeof uri === 'string')
    options.push('--mongo-uri', holdsPassword(uri) ? '<your MongoDB URI>' : shellWord(uri));
  if (typeof values.db === 'string') options.push('--db', shellWord(values.db));
  return options.length > 0 ? ` ${options.join(' ')}` : '';
}

function holdsPassword(uri: string): boolean {
  return /^[a-z+]+:\/\/[^/@]*:[^/@]*@/i.test(uri);
}

/** A word the shell reads back as it is: quoted unless it holds only safe characters. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
