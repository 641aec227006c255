#!/usr/bin/env node
import mongoose, { type Connection } from 'mongoose';
import pino from 'pino';
import { createSyncCore, type SyncCore } from '../create-sync-core';
import { isDatabaseUnavailable } from '../../lib/database-errors';
import { AbacSyncError, SyncAlreadyRunningError } from '../../lib/errors';
import { jobView, keepsPlan, type SyncJob } from '../../lib/jobs/sync-job';
import { plannedChangeView, type PlannedChange } from '../../lib/jobs/staged-change';
import { REDACTED_PATHS } from '../../lib/logger';
import { EXIT, exitCodeOf, followUpOptions, parseCommandLine, USAGE, type CliCommand } from './arguments';
import { LineProgress, noProgress, TerminalProgress, type ProgressDisplay } from './progress-display';

/** How often a followed run is read again (its progress moves once per batch). */
const FOLLOW_EVERY_MS = 250;

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  /** Called with a handler for Ctrl-C (SIGINT). */
  onInterrupt(handler: () => void): void;
}

/** A command's output, with the options its suggested next commands repeat to reach the same database. */
interface CommandIo extends CliIo {
  followUp: string;
}

/** Runs one command; resolves with the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, io.env);
  if (!parsed.ok) {
    io.stderr.write(`abac-ldap-sync: ${parsed.error}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { command } = parsed;
  if (command.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT.completed;
  }
  let connection: Connection;
  try {
    connection = await mongoose
      .createConnection(command.mongoUri, {
        ...(command.db ? { dbName: command.db } : {}),
        serverSelectionTimeoutMS: 5000,
      })
      .asPromise();
  } catch (error) {
    io.stderr.write(`abac-ldap-sync: MongoDB is unavailable: ${(error as Error).message}\n`);
    return EXIT.unavailable;
  }
  // Warnings and errors of the module, as JSON lines on stderr (never attribute values or secrets).
  const logger = pino({ name: 'abac-ldap-sync', level: 'warn', redact: REDACTED_PATHS }, pino.destination(2));
  let core: SyncCore | undefined;
  try {
    // This process takes part in runs only while it follows one.
    core = await createSyncCore({
      connection,
      logger,
      metricsRegistry: false,
      jobRunner:
        command.kind === 'undo' || ((command.kind === 'sync-all' || command.kind === 'apply') && command.wait)
          ? {}
          : false,
    });
    const commandIo = { ...io, followUp: followUpOptions(argv) };
    if (command.kind === 'jobs') return await listJobs(core, command, commandIo);
    if (command.kind === 'changes') return await listChanges(core, command, commandIo);
    if (command.kind === 'apply') return await applyPlan(core, command, commandIo);
    if (command.kind === 'undo') return await undo(core, command, commandIo);
    return await syncAll(core, command, commandIo);
  } catch (error) {
    if (isDatabaseUnavailable(error)) {
      io.stderr.write(`abac-ldap-sync: MongoDB is unavailable: ${(error as Error).message}\n`);
      return EXIT.unavailable;
    }
    throw error;
  } finally {
    await core?.close();
    await connection.close();
  }
}

async function listJobs(core: SyncCore, command: Extract<CliCommand, { kind: 'jobs' }>, io: CliIo) {
  const { jobs } = await core.jobs.list(command.limit);
  if (command.json) {
    io.stdout.write(`${JSON.stringify(jobs.map(jobView))}\n`);
    return EXIT.completed;
  }
  if (jobs.length === 0) io.stdout.write('No runs yet.\n');
  for (const job of jobs) io.stdout.write(`${describeJob(job)}\n`);
  return EXIT.completed;
}

/** Every page of a kept plan: JSON lines with --json, else one line per user. */
async function listChanges(core: SyncCore, command: Extract<CliCommand, { kind: 'changes' }>, io: CommandIo) {
  try {
    await printChanges(core, command, io);
  } catch (error) {
    if (!(error instanceof AbacSyncError)) throw error;
    io.stderr.write(`abac-ldap-sync: ${error.code}: ${error.publicMessage}\n`);
    return EXIT.refused;
  }
  return EXIT.completed;
}

async function printChanges(
  core: SyncCore,
  command: Omit<Extract<CliCommand, { kind: 'changes' }>, 'kind' | 'mongoUri'>,
  io: CommandIo,
): Promise<void> {
  let cursor: string | undefined;
  let count = 0;
  do {
    const page = await core.jobs.changes(command.jobId, {
      ...(command.status ? { status: command.status } : {}),
      stale: command.stale,
      losesRooms: command.losesRooms,
      ...(command.username !== undefined ? { username: command.username } : {}),
      ...(cursor ? { cursor } : {}),
      limit: 500,
    });
    for (const change of page.changes.map(plannedChangeView)) {
      count += 1;
      io.stdout.write(command.json ? `${JSON.stringify(change)}\n` : `${describeChange(change)}\n`);
    }
    cursor = page.nextCursor;
  } while (cursor);
  if (!command.json) io.stderr.write(`${count} planned change${count === 1 ? '' : 's'}.\n`);
}

function describeChange(change: PlannedChange): string {
  const values = (attributes: PlannedChange['added']) =>
    (attributes ?? []).map(({ key, values: list }) => `${key}=${list.join('|')}`).join(' ');
  const names = (rooms: readonly { name: string }[] | undefined) =>
    (rooms ?? []).map(({ name }) => name).join(', ');
  const rooms = names(change.roomsRevoked);
  const restored = names(change.roomsRestored);
  const notRestored = (change.roomsNotRestored ?? [])
    .map(({ name, reason }) => `${name} (${reason})`)
    .join(', ');
  return (
    `${change._id}  ${change.username}  ${change.status}` +
    (change.added?.length ? `  +${values(change.added)}` : '') +
    (change.removed?.length ? `  -${values(change.removed)}` : '') +
    (rooms ? `  leaves ${rooms}` : '') +
    (restored ? `  gets back ${restored}` : '') +
    (notRestored ? `  not given back ${notRestored}` : '') +
    (change.stale ? '  stale (changed since the plan; left as is)' : '')
  );
}

async function syncAll(core: SyncCore, command: Extract<CliCommand, { kind: 'sync-all' }>, io: CommandIo) {
  let job: SyncJob;
  try {
    job = await core.jobs.start({ trigger: 'cli', dryRun: command.dryRun });
    if (!command.json) io.stderr.write(`Run ${job._id} queued${command.dryRun ? ' (dry run)' : ''}.\n`);
  } catch (error) {
    if (error instanceof SyncAlreadyRunningError) {
      job = await core.jobs.get((error.extra.job as { _id: string })._id);
      if (!command.json) io.stderr.write(`A run is already ${job.state} (${job._id}): following it.\n`);
    } else if (error instanceof AbacSyncError) {
      io.stderr.write(`abac-ldap-sync: the run cannot start: ${error.code}: ${error.publicMessage}\n`);
      return EXIT.refused;
    } else throw error;
  }
  return follow(core, job, command, io);
}

/** Queues the apply of a kept plan, then follows that run as sync-all does. */
async function applyPlan(
  core: SyncCore,
  command: { jobId: string; json: boolean; wait: boolean },
  io: CommandIo,
) {
  let job: SyncJob;
  try {
    job = await core.jobs.apply(command.jobId, { trigger: 'cli' });
  } catch (error) {
    if (!(error instanceof AbacSyncError)) throw error;
    io.stderr.write(`abac-ldap-sync: the plan cannot be applied: ${error.code}: ${error.publicMessage}\n`);
    return EXIT.refused;
  }
  if (!command.json) io.stderr.write(`Run ${job._id} queued: it applies the plan of ${command.jobId}.\n`);
  return follow(core, job, command, io);
}

/**
 * Plans the undo and follows that planning; with --apply, prints the plan once it is made, then applies it
 * and follows that run too. The exit code is the last run's.
 */
async function undo(core: SyncCore, command: Extract<CliCommand, { kind: 'undo' }>, io: CommandIo) {
  let job: SyncJob;
  try {
    job = await core.undo.plan(command.target, { trigger: 'cli' });
  } catch (error) {
    if (!(error instanceof AbacSyncError)) throw error;
    io.stderr.write(`abac-ldap-sync: the undo cannot be planned: ${error.code}: ${error.publicMessage}\n`);
    return EXIT.refused;
  }
  if (!command.json) io.stderr.write(`Run ${job._id} queued: it plans the undo of ${job.undoes}.\n`);
  const planned = await follow(core, job, { json: command.json && !command.apply, wait: true }, io);
  if (!command.apply || planned !== EXIT.completed) return planned;
  await printChanges(core, { jobId: job._id, stale: false, losesRooms: false, json: command.json }, io);
  return applyPlan(core, { jobId: job._id, json: command.json, wait: true }, io);
}

/** Shows a run's progress until it ends (or only says it is queued, with --no-wait); its end is the exit code. */
async function follow(
  core: SyncCore,
  job: SyncJob,
  command: { json: boolean; wait: boolean },
  io: CommandIo,
) {
  if (!command.wait) {
    if (command.json) io.stdout.write(`${JSON.stringify(jobView(job))}\n`);
    return EXIT.completed;
  }

  const display: ProgressDisplay = command.json
    ? noProgress
    : io.stderr.isTTY
      ? new TerminalProgress(io.stderr)
      : new LineProgress(io.stderr);
  let interrupts = 0;
  let leave: (() => void) | undefined;
  const left = new Promise<void>((resolve) => {
    leave = resolve;
  });
  io.onInterrupt(() => {
    interrupts += 1;
    if (interrupts === 1) {
      io.stderr.write('\nCancelling: the run stops at its next batch (Ctrl-C again to leave now).\n');
      core.jobs.cancel(job._id, job.actor).catch(() => undefined);
    } else leave?.();
  });

  for (;;) {
    job = await core.jobs.get(job._id);
    display.show(job, Date.now());
    if (job.state !== 'queued' && job.state !== 'running') break;
    const waited = await Promise.race([
      new Promise((resolve) => setTimeout(() => resolve('tick'), FOLLOW_EVERY_MS)),
      left.then(() => 'left'),
    ]);
    if (waited === 'left') {
      display.end();
      io.stderr.write(
        `Left run ${job._id} (${job.state}); a host process resumes it. Follow it with: abac-ldap-sync jobs${io.followUp}\n`,
      );
      return EXIT.left;
    }
  }
  display.end();
  if (command.json) io.stdout.write(`${JSON.stringify(jobView(job))}\n`);
  else {
    io.stdout.write(`${describeJob(job)}\n`);
    if (keepsPlan(job))
      io.stderr.write(
        `Review its plan with: abac-ldap-sync changes ${job._id}${io.followUp}\n` +
          `Apply it as reviewed with: abac-ldap-sync apply ${job._id}${io.followUp}\n`,
      );
    if (job.summary.stale)
      io.stderr.write(
        `${job.summary.stale} users changed since the plan were left as they are: ` +
          `abac-ldap-sync changes ${job.reviewedJobId} --stale${io.followUp}\n`,
      );
  }
  return exitCodeOf(job.state);
}

/** One line per run: id, state, trigger, when, how long, counters, error. */
function describeJob(job: SyncJob): string {
  const seconds =
    job.startedAt && job.finishedAt
      ? ` in ${((job.finishedAt.getTime() - job.startedAt.getTime()) / 1000).toFixed(1)}s`
      : '';
  const { summary } = job;
  const counters =
    `${summary.matched} users: ${summary.updated} updated, ${summary.cleared} cleared, ${summary.unchanged} unchanged, ` +
    `${summary.notFoundInLdap} not found, ${summary.failed} failed, ${summary.roomsRevoked} rooms left` +
    (summary.roomsRestored ? `, ${summary.roomsRestored} rooms given back` : '') +
    (job.undoes ? `, undoes ${job.undoes}` : '') +
    (job.reviewedJobId ? `, ${summary.stale ?? 0} stale (applies the plan of ${job.reviewedJobId})` : '');
  return (
    `${job._id}  ${job.state}${job.dryRun ? ' (dry run)' : ''}  ${job.trigger}  ${job.createdAt.toISOString()}${seconds}  ` +
    `${counters}${job.error ? `  error ${job.error.code}: ${job.error.message}` : ''}` +
    (job.guard
      ? `  guard: ${job.guard.revokedUsers} of ${job.guard.usersInRun} users would lose values ` +
        `(${job.guard.clearedUsers} cleared, ${job.guard.evictions} rooms left` +
        (job.guard.recentRevokedUsers
          ? `, after ${job.guard.recentRevokedUsers} in the last ${job.guard.windowMinutes} minutes`
          : '') +
        '; ' +
        `limit ${job.guard.thresholdPercent}% and ${job.guard.thresholdUsers} users)`
      : '')
  );
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt: (handler) => process.on('SIGINT', handler),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`abac-ldap-sync: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(70);
    },
  );
}
