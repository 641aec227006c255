import request from 'supertest';
import { generatePeopleLdif, standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import type { Directory, DirectorySession } from '../../../lib/ldap/directory';
import { LdaptsDirectory } from '../../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../../lib/logger';
import type { RoomMemberRemover, RoomRemoval } from '../../../lib/sync/room-member-remover';
import { MongoRoomMemberRemover } from '../../../mongo/room-member-remover';
import { RUN_COLLECTIONS, snapshotDatabase } from '../../helpers/database';
import { expectLegacyRoomSyncedOnce, seedLegacyRoom } from '../../helpers/legacy-room';
import { withSearch } from '../../helpers/directories';
import { ADMIN_HEADERS, ldapSettings, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER, JOBS_URL, readJob, startRun, waitForEnd } from '../../helpers/jobs';

const PEOPLE = 300;
const LDAP_TIMEOUT_MS = 1500;
const ATTRIBUTE_CHANGED = 'abac.subject.attribute.changed';
const REVOKED = 'abac.action.performed';

/**
 * The real adapter; a test may hook the moment after the n-th search of the sessions it opens, or the
 * n-th entry they receive (in the middle of a search).
 */
class HookedDirectory implements Directory {
  afterSearch: ((searchNumber: number) => Promise<void>) | undefined;
  onEntry: ((entryNumber: number) => void) | undefined;
  private readonly real = new LdaptsDirectory(silentLogger);
  private searches = 0;
  private entries = 0;

  async open(settings: Parameters<Directory['open']>[0]): Promise<DirectorySession> {
    const session = await this.real.open(settings);
    return withSearch(session, async (search, onEntry) => {
      await session.search(search, (entry) => {
        this.entries += 1;
        this.onEntry?.(this.entries);
        onEntry(entry);
      });
      this.searches += 1;
      await this.afterSearch?.(this.searches);
    });
  }

  reset() {
    this.afterSearch = undefined;
    this.onEntry = undefined;
    this.searches = 0;
    this.entries = 0;
  }
}

/** The MongoDB remover; a test may make its n-th call (with removals) fail or wait. */
class HookedRemover implements RoomMemberRemover {
  real: RoomMemberRemover | undefined;
  beforeCall: ((callNumber: number) => Promise<void>) | undefined;
  private calls = 0;

  async remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]> {
    if (removals.length > 0) {
      this.calls += 1;
      await this.beforeCall?.(this.calls);
    }
    return this.real!.remove(removals);
  }

  reset() {
    this.beforeCall = undefined;
    this.calls = 0;
  }
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/**
 * Faults and cancels during directory-wide runs, on a slapd of their own (300 people, read at once, then
 * planned in batches of 100) and the MongoDB-wire server. Every user holds a value the directory no longer has and sits in a room
 * that value grants: a completed run writes, evicts, posts and audits for all of them.
 */
describe('directory-wide runs under faults', () => {
  let slapd: Slapd;
  let host: TestHost;
  const directory = new HookedDirectory();
  const remover = new HookedRemover();
  const runner = { ...FAST_RUNNER, planBatchSize: 100, applyBatchSize: 50 };
  const snapshot = () => snapshotDatabase(host.connection, { except: RUN_COLLECTIONS });

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: PEOPLE })] });
    host = await startTestHost({
      directory,
      memberRemover: remover,
      settingsCacheTtlMs: 0,
      seedSettings: false,
      jobRunner: runner,
    });
    remover.real = new MongoRoomMemberRemover({ ...host.models, clock: host.clock });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_Timeout: LDAP_TIMEOUT_MS,
      LDAP_Connect_Timeout: 1000,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
      // Every user here loses a value on purpose: the mass-revocation guard is tested on its own.
      ABAC_Sync_Guard_Max_Revoked_Percent: 100,
    });
  });
  beforeEach(async () => {
    directory.reset();
    remover.reset();
    await Promise.all(
      ['users', 'rooms', 'subscriptions', 'messages', 'serverEvents', 'evictionRecords'].map((name) =>
        host.models[name as 'users'].deleteMany({ _id: { $ne: 'admin-user-id' } }),
      ),
    );
    await seedLegacyRoom(host.models, PEOPLE);
    host.clock.advance(1000);
  });
  afterEach(async () => {
    if (!slapd.running) await slapd.resume();
  });
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  const usersAtDirectoryValue = () =>
    host.models.users.countDocuments({
      'abacAttributes.key': 'department',
      'abacAttributes.values': { $ne: 'legacy' },
    });

  const expectEverythingSyncedOnce = () => expectLegacyRoomSyncedOnce(host.models, PEOPLE);

  // The run reads the whole subtree before it plans anyone (pages of LDAP_Search_Page_Size): a fault in
  // the middle of that read.
  it('fails with error-ldap-unavailable when slapd is killed while planning, and changes nothing', async () => {
    const before = await snapshot();
    directory.onEntry = (entryNumber) => {
      if (entryNumber === 10) void slapd.stopProcess('SIGKILL');
    };
    const job = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(job).toMatchObject({
      state: 'failed',
      phase: 'planning',
      error: { code: 'error-ldap-unavailable' },
    });
    expect(job.progress.processed).toBe(0);
    expect(await snapshot()).toBe(before);
    expect(await host.models.stagedChanges.countDocuments({ jobId: job._id })).toBe(0);
  });

  it('fails within LDAP_Timeout when slapd freezes while planning, and changes nothing', async () => {
    const before = await snapshot();
    directory.onEntry = (entryNumber) => {
      if (entryNumber === 10) void slapd.freeze();
    };
    try {
      const job = await waitForEnd(host.app, (await startRun(host.app))._id);
      expect(job).toMatchObject({ state: 'failed', error: { code: 'error-ldap-unavailable' } });
      expect(await snapshot()).toBe(before);
    } finally {
      slapd.thaw();
    }
  });

  it('keeps the batches applied before a fault while applying, evicts nobody for it, and the next run finishes', async () => {
    remover.beforeCall = async (callNumber) => {
      if (callNumber === 3) throw new Error('room service unavailable');
    };
    const failed = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(failed).toMatchObject({ state: 'failed', phase: 'applying', error: { code: 'error-internal' } });
    expect(failed.summary).toMatchObject({ updated: 100, roomsRevoked: 100 });
    // Two batches done; the third wrote its attributes (with their audit in the outboxes) and stopped before
    // evicting; the other three batches were not touched.
    expect(await usersAtDirectoryValue()).toBe(150);
    expect(await host.models.subscriptions.countDocuments()).toBe(200);
    expect((await host.models.rooms.findById('r-legacy').lean())?.usersCount).toBe(200);
    expect(await host.models.serverEvents.countDocuments({ t: ATTRIBUTE_CHANGED })).toBe(100);
    expect(await host.models.serverEvents.countDocuments({ t: REVOKED })).toBe(100);

    remover.reset();
    host.clock.advance(1000);
    const next = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(next.state).toBe('completed');
    expect(next.summary).toMatchObject({ matched: PEOPLE, updated: 150, unchanged: 150, roomsRevoked: 200 });
    await expectEverythingSyncedOnce();
  });

  it('stops a planning run at the next batch when cancelled, having written nothing', async () => {
    const before = await snapshot();
    const paused = deferred();
    const reached = deferred();
    directory.afterSearch = async (searchNumber) => {
      if (searchNumber !== 1) return;
      reached.release();
      await paused.promise;
    };
    const started = await startRun(host.app);
    await reached.promise;
    const cancel = await request(host.app).post(`${JOBS_URL}/${started._id}/cancel`).set(ADMIN_HEADERS);
    expect(cancel.status).toBe(200);
    expect(cancel.body.job).toMatchObject({ state: 'running', cancelRequested: true });
    paused.release();
    const job = await waitForEnd(host.app, started._id);
    expect(job).toMatchObject({ state: 'cancelled', phase: 'planning' });
    expect(job.progress.processed).toBe(100);
    expect(await snapshot()).toBe(before);
  });

  it('stops an applying run at the next batch when cancelled: what it applied stays applied and audited', async () => {
    const paused = deferred();
    const reached = deferred();
    remover.beforeCall = async (callNumber) => {
      if (callNumber !== 2) return;
      reached.release();
      await paused.promise;
    };
    const started = await startRun(host.app);
    await reached.promise;
    await request(host.app).post(`${JOBS_URL}/${started._id}/cancel`).set(ADMIN_HEADERS).expect(200);
    paused.release();
    const job = await waitForEnd(host.app, started._id);
    expect(job).toMatchObject({ state: 'cancelled', phase: 'applying' });
    expect(job.summary).toMatchObject({ updated: 100, roomsRevoked: 100 });
    expect(await usersAtDirectoryValue()).toBe(100);
    expect(await host.models.subscriptions.countDocuments()).toBe(200);
    expect(await host.models.serverEvents.countDocuments({ t: ATTRIBUTE_CHANGED })).toBe(100);
    expect(await host.models.serverEvents.countDocuments({ t: REVOKED })).toBe(100);
    expect((await readJob(host.app, started._id)).cancelRequested).toBe(true);
  });
});
