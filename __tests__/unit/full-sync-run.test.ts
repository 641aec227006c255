import { LdapSizeLimitExceededError } from '../../lib/errors';
import { FullSyncRun } from '../../lib/jobs/full-sync-run';
import { mapLimit } from '../../lib/jobs/run-directory-read';
import { silentLogger } from '../../lib/logger';
import { noMetrics } from '../../lib/metrics';
import { ManualClock } from '../helpers/host';
import { MemoryDirectory, memoryEngine, MEMORY_DIRECTORY_SETTINGS } from '../helpers/memory-directory';
import { RevocationBudget } from '../../lib/jobs/revocation-budget';
import { MemoryRevocationLedger } from '../helpers/memory-revocation-ledger';
import { MemorySyncJobStore } from '../helpers/memory-job-store';
import { MemorySyncStore } from '../helpers/memory-sync-store';
import type { ReadEntryMap } from '../../lib/sync/entry-map';

// A directory-wide run over the in-memory stores and directory: checkpoints, resume, fencing and cancel
// without a server (the same paths run end to end on slapd and MongoDB in sync-job-*.test.ts).

const PEOPLE = 10;
const ROOT = { type: 'user' as const, _id: 'u-admin', username: 'root' };
const uid = (index: number) => `person${index}`;
const userId = (index: number) => `u-${String(index).padStart(2, '0')}`;

function setUp({
  applyBatchSize = 3,
  directoryRead = 'subtree' as 'subtree' | 'lookups',
  guard = {} as Record<string, unknown>,
  /** People in the directory without a chat account. */
  othersInDirectory = 0,
  readEntryMap = undefined as ReadEntryMap | undefined,
} = {}) {
  const clock = new ManualClock();
  const store = new MemorySyncStore();
  const jobs = new MemorySyncJobStore();
  const directory = new MemoryDirectory(
    Object.fromEntries([
      ...Array.from({ length: PEOPLE }, (_, index) => [uid(index), [`dept-${index}`]]),
      ...Array.from({ length: othersInDirectory }, (_, index) => [`other${index}`, ['elsewhere']]),
    ]),
  );
  const { service: engine, remover } = memoryEngine(store, directory, clock);
  store.rooms.set('r-legacy', {
    _id: 'r-legacy',
    name: 'legacy',
    usersCount: PEOPLE,
    abacAttributes: [{ key: 'department', values: ['legacy'] }],
  });
  for (let index = 0; index < PEOPLE; index += 1) {
    // Every other user holds a value the directory no longer has, in the room it grants.
    const stale = index % 2 === 0;
    store.users.set(userId(index), {
      _id: userId(index),
      username: uid(index),
      ldap: true,
      abacAttributes: [{ key: 'department', values: [stale ? 'legacy' : `dept-${index}`] }],
      rooms: stale ? ['r-legacy'] : [],
    });
    if (stale) store.subscriptions.set(`s-${index}`, { rid: 'r-legacy', userId: userId(index) });
  }
  store.users.set('u-ghost', { _id: 'u-ghost', username: 'ghost', ldap: true });
  store.users.set('u-local', { _id: 'u-local', username: uid(1) });
  const run = new FullSyncRun(
    {
      engine,
      settings: { current: async () => ({ ...MEMORY_DIRECTORY_SETTINGS, ...guard }) },
      store,
      jobs,
      budget: new RevocationBudget({ ledger: new MemoryRevocationLedger(), clock }),
      clock,
      logger: silentLogger,
      metrics: noMetrics,
      ...(readEntryMap ? { readEntryMap } : {}),
    },
    { planBatchSize: 4, applyBatchSize, heartbeatMs: 60_000, directoryRead },
  );
  const queue = async (dryRun = false) => {
    const outcome = await jobs.createUnlessActive({
      _id: 'j1',
      trigger: 'admin',
      actor: { type: 'user', _id: 'u-admin', username: 'root' },
      dryRun,
      createdAt: new Date(clock.now()),
    });
    if (!outcome.created) throw new Error('a job is active');
    return outcome.job;
  };
  return { clock, store, jobs, directory, engine, remover, run, queue };
}

/**
 * Calls `before` ahead of every search a session of `directory` makes, with whether it is the subtree read
 * (the one search whose filter is the configured filter alone); `before` may throw to fail that search.
 */
function beforeSearches(directory: MemoryDirectory, before: (subtree: boolean) => void): void {
  const open = directory.open.bind(directory);
  directory.open = async () => {
    const session = await open();
    return {
      ...session,
      search: async (search, onEntry) => {
        before(search.filter.kind === 'configured');
        return session.search(search, onEntry);
      },
    };
  };
}

const changeEvents = (store: MemorySyncStore) =>
  [...store.auditTrail.values()].filter((event) => event.t === 'abac.subject.attribute.changed');

describe.each(['subtree', 'lookups'] as const)(
  'a directory-wide run reading the directory by %s (in memory)',
  (directoryRead) => {
    it('plans every LDAP user, applies only the changes, and counts each user once', async () => {
      const { store, jobs, run, queue } = setUp({ directoryRead });
      await queue();
      const job = await run.drive('j1');
      expect(job).toMatchObject({
        state: 'completed',
        phase: 'applying',
        progress: { total: 5, processed: 5 },
      });
      expect(job!.summary).toEqual({
        requested: 11,
        matched: 11,
        updated: 5,
        cleared: 0,
        unchanged: 5,
        notFoundInLdap: 1,
        failed: 0,
        roomsRevoked: 5,
      });
      for (let index = 0; index < PEOPLE; index += 1)
        expect(store.users.get(userId(index))?.abacAttributes).toEqual([
          { key: 'department', values: [`dept-${index}`] },
        ]);
      expect(store.users.get('u-local')?.abacAttributes).toBeUndefined();
      expect(changeEvents(store)).toHaveLength(5);
      expect(store.subscriptions.size).toBe(0);
      expect(await jobs.countStaged('j1')).toBe(0);
      expect(await jobs.active()).toBeUndefined();
    });

    it('gives the run up at its next batch when its process stops, and another runner finishes it', async () => {
      const { store, jobs, run, queue } = setUp({ directoryRead });
      await queue();
      const stopping = new AbortController();
      stopping.abort();
      expect(await run.drive('j1', undefined, stopping.signal)).toBeUndefined();
      const left = await jobs.get('j1');
      expect(left).toMatchObject({ state: 'running', progress: { processed: 0 } });
      expect(changeEvents(store)).toHaveLength(0);
      expect(await run.drive('j1')).toMatchObject({ state: 'completed', summary: { updated: 5 } });
      expect(changeEvents(store)).toHaveLength(5);
    });

    it.each([
      ['ABAC_Enabled', 'error-abac-not-enabled'],
      ['LDAP_Enable', 'error-ldap-not-enabled'],
    ])('stops at its next batch once %s is switched off, and says why', async (setting, code) => {
      const settings: Record<string, unknown> = {};
      const { store, jobs, run, queue } = setUp({ directoryRead, guard: settings });
      await queue();
      const advance = jobs.advance.bind(jobs);
      jobs.advance = async (...args) => {
        const next = await advance(...args);
        settings[setting] = false;
        return next;
      };
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'cancelled', error: { code }, progress: { processed: 4 } });
      expect(changeEvents(store)).toHaveLength(0);
      expect(await jobs.active()).toBeUndefined();
    });

    it('drops what a runner that died staged past its checkpoint: the resumed run applies only its own plan', async () => {
      const { store, jobs, run, queue, clock } = setUp({ directoryRead });
      await queue();
      // A runner took the run, staged a change for person1 (in step with the directory) from a plan that
      // is no longer true, and died before recording its batch.
      const at = new Date(clock.now());
      await jobs.takeOver('j1', { token: 'dead', name: 'host:dead' }, at);
      await jobs.enterPhase('j1', 'dead', 'planning', 11, at);
      const current = [{ key: 'department', values: ['dept-1'] }];
      const superseded = [{ key: 'department', values: ['superseded'] }];
      await jobs.stage([
        {
          jobId: 'j1',
          userId: userId(1),
          username: uid(1),
          status: 'updated',
          before: current,
          next: superseded,
          added: superseded,
          removed: current,
          roomsRevoked: [],
        },
      ]);
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'completed', summary: { updated: 5, unchanged: 5 } });
      expect(store.users.get(userId(1))?.abacAttributes).toEqual(current);
    });

    it('writes nothing but its staging in a dry run, and keeps the plan', async () => {
      const { store, jobs, run, queue } = setUp({ directoryRead });
      await queue(true);
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'completed', phase: 'planning', dryRun: true });
      expect(job!.summary).toMatchObject({ updated: 5, unchanged: 5, notFoundInLdap: 1, roomsRevoked: 5 });
      expect(store.users.get(userId(0))?.abacAttributes).toEqual([{ key: 'department', values: ['legacy'] }]);
      expect(store.auditTrail.size).toBe(0);
      expect(await jobs.countStaged('j1')).toBe(5);
    });

    it('fails with the directory error when the directory is down while planning, and changes nothing', async () => {
      const { store, jobs, directory, run, queue } = setUp({ directoryRead });
      directory.down = true;
      await queue();
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'failed', error: { code: 'error-ldap-unavailable' } });
      expect(store.users.get(userId(0))?.abacAttributes).toEqual([{ key: 'department', values: ['legacy'] }]);
      expect(store.auditTrail.size).toBe(0);
      expect(store.subscriptions.size).toBe(5);
      expect(await jobs.countStaged('j1')).toBe(0);
    });

    it('stops without another write once another runner holds the job, and that runner finishes it once', async () => {
      const { store, jobs, remover, run, queue } = setUp({ applyBatchSize: 2, directoryRead });
      await queue();
      // The first runner stalls after its first applied batch; another process takes the job over.
      const original = remover.remove.bind(remover);
      let calls = 0;
      remover.remove = async (removals) => {
        const done = await original(removals);
        if (removals.length > 0 && ++calls === 1) jobs.handToAnotherRunner('j1');
        return done;
      };
      expect(await run.drive('j1')).toBeUndefined();
      const halfway = (await jobs.get('j1'))!;
      expect(halfway.state).toBe('running');
      expect(halfway.progress.processed).toBe(0);
      expect(changeEvents(store)).toHaveLength(2);

      // The new runner (here: the same code with a new token, as after a takeover) resumes from the
      // checkpoint: the cut-short batch is applied again, found already done, and counted once.
      remover.remove = original;
      const finished = await run.drive('j1');
      expect(finished).toMatchObject({ state: 'completed', progress: { total: 5, processed: 5 } });
      expect(finished!.summary).toMatchObject({ updated: 5, unchanged: 5, notFoundInLdap: 1 });
      expect(changeEvents(store)).toHaveLength(5);
      expect(store.subscriptions.size).toBe(0);
      expect(store.rooms.get('r-legacy')?.usersCount).toBe(PEOPLE - 5);
    });

    it('ends cancelled at the next batch when asked, keeping what it applied', async () => {
      const { store, jobs, remover, run, queue, clock } = setUp({ applyBatchSize: 2, directoryRead });
      await queue();
      const original = remover.remove.bind(remover);
      remover.remove = async (removals) => {
        await jobs.requestCancel('j1', new Date(clock.now()), ROOT);
        return original(removals);
      };
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'cancelled', phase: 'applying', progress: { processed: 2 } });
      expect(changeEvents(store)).toHaveLength(2);
      expect(store.subscriptions.size).toBe(3);
    });

    it('stops blocked, applying nothing, when the plan takes values from more users than the guard allows', async () => {
      const { store, jobs, run, queue } = setUp({
        directoryRead,
        guard: { ABAC_Sync_Guard_Max_Revoked_Percent: 40, ABAC_Sync_Guard_Min_Users: 2 },
      });
      await queue();
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'blocked', phase: 'planning' });
      expect(job!.guard).toEqual({
        revokedUsers: 5,
        clearedUsers: 0,
        evictions: 5,
        usersInRun: 11,
        thresholdPercent: 40,
        thresholdUsers: 2,
        recentRevokedUsers: 0,
        windowMinutes: 60,
      });
      expect(store.auditTrail.size).toBe(0);
      expect(store.subscriptions.size).toBe(5);
      expect(store.users.get(userId(0))?.abacAttributes).toEqual([{ key: 'department', values: ['legacy'] }]);
      // The plan stays for review, and the run slot is free again.
      expect(await jobs.countStaged('j1')).toBe(5);
      expect(await jobs.active()).toBeUndefined();
    });

    it('runs when the plan stays within either threshold, and shows the figures on a dry run', async () => {
      const within = setUp({
        directoryRead,
        guard: { ABAC_Sync_Guard_Max_Revoked_Percent: 50, ABAC_Sync_Guard_Min_Users: 2 },
      });
      await within.queue();
      expect(await within.run.drive('j1')).toMatchObject({ state: 'completed', summary: { updated: 5 } });
      const dry = setUp({
        directoryRead,
        guard: { ABAC_Sync_Guard_Max_Revoked_Percent: 1, ABAC_Sync_Guard_Min_Users: 1 },
      });
      await dry.queue(true);
      expect(await dry.run.drive('j1')).toMatchObject({
        state: 'completed',
        dryRun: true,
        guard: { revokedUsers: 5, usersInRun: 11, thresholdPercent: 1, thresholdUsers: 1 },
      });
    });

    it('leaves a user written by a newer sync between planning and applying as that sync left them', async () => {
      const { store, jobs, run, queue } = setUp({ directoryRead });
      await queue();
      // Between the phases (the apply phase counts the staged changes first), the changed-entries feed or a
      // request syncs user 0 from a newer reading of the directory.
      const countStaged = jobs.countStaged.bind(jobs);
      jobs.countStaged = async (jobId) => {
        store.users.get(userId(0))!.abacAttributes = [{ key: 'department', values: ['newer'] }];
        return countStaged(jobId);
      };
      const job = await run.drive('j1');
      expect(job).toMatchObject({ state: 'completed', summary: { updated: 4, stale: 1 } });
      expect(store.users.get(userId(0))?.abacAttributes).toEqual([{ key: 'department', values: ['newer'] }]);
      expect(store.subscriptions.has('s-0')).toBe(true);
      expect(store.users.get(userId(2))?.abacAttributes).toEqual([{ key: 'department', values: ['dept-2'] }]);
    });

    it('does nothing for a job that has ended or does not exist', async () => {
      const { run, queue } = setUp({ directoryRead });
      await queue();
      await run.drive('j1');
      expect(await run.drive('j1')).toBeUndefined();
      expect(await run.drive('nope')).toBeUndefined();
    });
  },
);

describe('a directory-wide run over a directory with far more people than LDAP users', () => {
  it('stops reading the subtree past twice as many entries (and 1,000) and looks the users up', async () => {
    expect([mapLimit(11), mapLimit(5000)]).toEqual([1000, 10_000]);
    const { store, directory, run, queue } = setUp({ directoryRead: 'subtree', othersInDirectory: 1200 });
    const searches = { subtree: 0, lookups: 0 };
    beforeSearches(directory, (subtree) => {
      searches[subtree ? 'subtree' : 'lookups'] += 1;
    });
    await queue();
    const job = await run.drive('j1');
    expect(searches.subtree).toBe(1);
    expect(searches.lookups).toBeGreaterThan(0);
    expect(job).toMatchObject({
      state: 'completed',
      summary: { updated: 5, unchanged: 5, notFoundInLdap: 1 },
    });
    expect(changeEvents(store)).toHaveLength(5);
  });
});

describe('a directory-wide run whose subtree read a server size limit cuts short', () => {
  it('looks the users up in batches instead, and completes the same', async () => {
    const { store, directory, run, queue } = setUp({ directoryRead: 'subtree' });
    let scans = 0;
    beforeSearches(directory, (subtree) => {
      if (!subtree) return;
      scans += 1;
      throw new LdapSizeLimitExceededError('size limit exceeded');
    });
    await queue();
    const job = await run.drive('j1');
    expect(scans).toBe(1);
    expect(job).toMatchObject({
      state: 'completed',
      summary: { updated: 5, unchanged: 5, notFoundInLdap: 1 },
    });
    expect(changeEvents(store)).toHaveLength(5);
  });
});

describe('a directory-wide run reading the subtree into a map', () => {
  it("reads the subtree while it reads the users' identifiers from MongoDB", async () => {
    const { store, directory, run, queue } = setUp({ directoryRead: 'subtree' });
    const order: string[] = [];
    let subtreeBegun: () => void = () => undefined;
    const begun = new Promise<void>((resolve) => (subtreeBegun = resolve));
    beforeSearches(directory, (subtree) => {
      if (!subtree) return;
      order.push('subtree read begins');
      subtreeBegun();
    });
    const identifiers = store.ldapSubjectIdentifiers.bind(store);
    store.ldapSubjectIdentifiers = async function* (batchSize) {
      yield* identifiers(batchSize);
      // A run that read the subtree only after this read would never begin it here.
      await Promise.race([begun, new Promise((resolve) => setTimeout(resolve, 500))]);
      order.push('identifiers read');
    };
    await queue();
    const job = await run.drive('j1');
    expect(order).toEqual(['subtree read begins', 'identifiers read']);
    expect(job).toMatchObject({ state: 'completed', summary: { updated: 5, unchanged: 5 } });
  });

  it('fails, writing nothing, and lets the map go when the identifiers cannot be read', async () => {
    let closed = 0;
    const fixture = setUp({
      directoryRead: 'subtree',
      readEntryMap: async (configuration, storedIdAttributes, maxEntries, requestId) => {
        const map = await fixture.engine.readDirectoryMap(
          configuration,
          storedIdAttributes,
          requestId,
          undefined,
          maxEntries,
        );
        return { ...map.asEntryMap(), close: async () => void (closed += 1) };
      },
    });
    const { store, jobs, run, queue } = fixture;
    store.ldapSubjectIdentifiers = async function* () {
      yield [];
      throw new Error('MongoDB went away');
    };
    await queue();
    const job = await run.drive('j1');
    expect(job).toMatchObject({ state: 'failed' });
    expect(closed).toBe(1);
    expect(store.users.get(userId(0))?.abacAttributes).toEqual([{ key: 'department', values: ['legacy'] }]);
    expect(store.auditTrail.size).toBe(0);
    expect(store.subscriptions.size).toBe(5);
    expect(await jobs.countStaged('j1')).toBe(0);
  });
});
