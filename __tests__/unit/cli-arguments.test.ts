import { exitCodeOf, followUpOptions, parseCommandLine } from '../../app/cli/arguments';

const URI = 'mongodb://db.example:27017';

/** The CLI's command line (pure: no process, no servers). */
describe('CLI command line', () => {
  it('reads sync-all with its defaults and flags', () => {
    expect(parseCommandLine(['sync-all', '--mongo-uri', URI], {})).toEqual({
      ok: true,
      command: { kind: 'sync-all', mongoUri: URI, dryRun: false, json: false, wait: true },
    });
    expect(
      parseCommandLine(['sync-all', '--db', 'rc', '--dry-run', '--json', '--no-wait'], { MONGODB_URI: URI }),
    ).toEqual({
      ok: true,
      command: { kind: 'sync-all', mongoUri: URI, db: 'rc', dryRun: true, json: true, wait: false },
    });
  });

  it('reads jobs with a limit', () => {
    expect(parseCommandLine(['jobs', '--mongo-uri', URI, '--limit', '5'], {})).toEqual({
      ok: true,
      command: { kind: 'jobs', mongoUri: URI, limit: 5, json: false },
    });
    expect(parseCommandLine(['jobs', '--mongo-uri', URI], {})).toMatchObject({ command: { limit: 20 } });
  });

  it('reads changes with its run id and optional filters', () => {
    expect(
      parseCommandLine(['changes', 'j1', '--mongo-uri', URI, '--status', 'cleared', '--json'], {}),
    ).toEqual({
      ok: true,
      command: {
        kind: 'changes',
        mongoUri: URI,
        jobId: 'j1',
        status: 'cleared',
        stale: false,
        losesRooms: false,
        json: true,
      },
    });
    expect(
      parseCommandLine(['changes', 'j1', '--mongo-uri', URI, '--loses-rooms', '--username', 'Ann'], {}),
    ).toMatchObject({ command: { losesRooms: true, username: 'Ann' } });
    expect(parseCommandLine(['changes', 'j1', '--mongo-uri', URI, '--stale'], {})).toMatchObject({
      command: { stale: true },
    });
  });

  it('reads apply with its run id', () => {
    expect(parseCommandLine(['apply', 'j1', '--mongo-uri', URI, '--no-wait', '--json'], {})).toEqual({
      ok: true,
      command: { kind: 'apply', mongoUri: URI, jobId: 'j1', json: true, wait: false },
    });
  });

  it('reads undo with the run or the request to take back', () => {
    expect(parseCommandLine(['undo', '--job', 'j1', '--mongo-uri', URI], {})).toEqual({
      ok: true,
      command: { kind: 'undo', mongoUri: URI, target: { jobId: 'j1' }, apply: false, json: false },
    });
    expect(parseCommandLine(['undo', '--request', 'r1', '--apply', '--json'], { MONGODB_URI: URI })).toEqual({
      ok: true,
      command: { kind: 'undo', mongoUri: URI, target: { requestId: 'r1' }, apply: true, json: true },
    });
  });

  it('answers help before anything else', () => {
    expect(parseCommandLine(['--help'], {})).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommandLine(['sync-all', '-h'], {})).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseCommandLine(['help'], {})).toEqual({ ok: true, command: { kind: 'help' } });
  });

  it.each([
    [[], 'a command is required'],
    [['bogus', '--mongo-uri', URI], 'unknown command: bogus'],
    [['sync-all'], '--mongo-uri is required'],
    [['sync-all', 'extra', '--mongo-uri', URI], 'unexpected argument: extra'],
    [['sync-all', '--mongo-uri', URI, '--force'], "Unknown option '--force'"],
    [['sync-all', '--mongo-uri', URI, '--limit', '3'], 'sync-all takes no --limit'],
    [['jobs', '--mongo-uri', URI, '--dry-run'], 'jobs takes no --dry-run'],
    [['jobs', '--mongo-uri', URI, '--limit', '0'], '--limit must be a whole number from 1 to 100'],
    [['jobs', '--mongo-uri', URI, '--limit', '101'], '--limit must be a whole number from 1 to 100'],
    [['jobs', '--mongo-uri', URI, '--limit', '2.5'], '--limit must be a whole number from 1 to 100'],
    [['jobs', '--mongo-uri'], "Option '--mongo-uri <value>' argument missing"],
    [['changes', '--mongo-uri', URI], 'changes needs the run id'],
    [['changes', 'j1', 'j2', '--mongo-uri', URI], 'unexpected argument: j2'],
    [
      ['changes', 'j1', '--mongo-uri', URI, '--status', 'failed'],
      '--status must be updated, cleared or unchanged',
    ],
    [['jobs', '--mongo-uri', URI, '--status', 'updated'], 'jobs takes no --status'],
    [['apply', '--mongo-uri', URI], 'apply needs the run id'],
    [['apply', 'j1', '--mongo-uri', URI, '--dry-run'], 'apply takes no --dry-run'],
    [['apply', 'j1', '--mongo-uri', URI, '--stale'], 'apply takes no --stale'],
    [['sync-all', '--mongo-uri', URI, '--stale'], 'sync-all takes no --stale'],
    [['jobs', '--mongo-uri', URI, '--loses-rooms'], 'jobs takes no --loses-rooms'],
    [['apply', 'j1', '--mongo-uri', URI, '--username', 'a'], 'apply takes no --username'],
    [['changes', 'j1', '--mongo-uri', URI, '--username', ''], '--username needs the start of a username'],
    [['undo', '--mongo-uri', URI], 'undo needs exactly one of --job <id> and --request <id>'],
    [['undo', '--job', 'j', '--request', 'r', '--mongo-uri', URI], 'undo needs exactly one of --job'],
    [['undo', '--job', ' ', '--mongo-uri', URI], 'undo needs exactly one of --job'],
    [
      ['undo', '--job', 'j', '--mongo-uri', URI, '--no-wait'],
      'undo takes no --dry-run, --no-wait or --limit',
    ],
    [['apply', 'j1', '--mongo-uri', URI, '--apply'], 'apply takes no --apply'],
    [['sync-all', '--mongo-uri', URI, '--job', 'j'], 'sync-all takes no --job'],
  ])('refuses %j: %s', (argv, message) => {
    const parsed = parseCommandLine(argv, {});
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(message);
  });

  it('names the same database in the commands it suggests next, never printing a password', () => {
    expect(
      followUpOptions(['sync-all', '--mongo-uri', 'mongodb://127.0.0.1:4000/abac_demo', '--dry-run']),
    ).toBe(' --mongo-uri mongodb://127.0.0.1:4000/abac_demo');
    expect(
      followUpOptions(['sync-all', '--mongo-uri', 'mongodb://h/db?replicaSet=rs0&w=1', '--db', 'rc']),
    ).toBe(" --mongo-uri 'mongodb://h/db?replicaSet=rs0&w=1' --db rc");
    expect(followUpOptions(['apply', 'j1', '--mongo-uri=mongodb://sync:s3cret@db.example/rc'])).toBe(
      ' --mongo-uri <your MongoDB URI>',
    );
    // From MONGODB_URI, which the next command reads as well.
    expect(followUpOptions(['sync-all', '--dry-run'])).toBe('');
  });

  it('exits 0 for a completed run, 1 failed, 2 cancelled, 4 blocked', () => {
    expect(['completed', 'failed', 'cancelled', 'blocked'].map(exitCodeOf)).toEqual([0, 1, 2, 4]);
  });
});
