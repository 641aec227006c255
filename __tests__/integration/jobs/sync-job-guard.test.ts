import {
  generatePeopleLdif,
  generatedDepartment,
  generatedUid,
  standardDirectory,
} from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import { RUN_COLLECTIONS, snapshotDatabase } from '../../helpers/database';
import request from 'supertest';
import { ADMIN_HEADERS, ldapSettings, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import {
  FAST_RUNNER,
  JOBS_URL,
  readJob,
  startRun,
  waitForEnd,
  waitForScheduleToSettle,
  type JobBody,
} from '../../helpers/jobs';
import { recordingLogger } from '../../helpers/recording-logger';
import { within } from '../../helpers/within';

const PEOPLE = 300;
const userId = (index: number) => `id-${String(index).padStart(3, '0')}`;
const inSync = (index: number) => [{ key: 'department', values: [generatedDepartment(index)] }];

/**
 * The mass-revocation guard on the real slapd (300 people) and MongoDB-wire server: a run whose plan takes
 * values from more users than ABAC_Sync_Guard_Max_Revoked_Percent of the run and ABAC_Sync_Guard_Min_Users
 * stops `blocked` before applying anything.
 */
describe('directory-wide runs and the mass-revocation guard', () => {
  let slapd: Slapd;
  let host: TestHost;
  const { logger, lines } = recordingLogger();
  const settings = () => ({
    ...ldapSettings(),
    LDAP_Host: '127.0.0.1',
    LDAP_Port: slapd.port,
    LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
  });

  /** Every user in step with the directory, but the first `losing` hold a value it does not have. */
  async function seed(losing: number, active = PEOPLE) {
    await host.models.users.deleteMany({ ldap: true });
    // Each case starts with nothing revoked in the guard's window.
    await host.models.revocationEntries.deleteMany({});
    await host.models.users.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: index < active,
        ldap: true,
        abacAttributes:
          index < losing
            ? [{ key: 'department', values: [generatedDepartment(index), 'retired-dept'] }]
            : inSync(index),
      })),
    );
    host.clock.advance(1000);
  }

  const run = async () => waitForEnd(host.app, (await startRun(host.app))._id);
  const run2 = async (body: { dryRun?: boolean }) =>
    waitForEnd(host.app, (await startRun(host.app, body))._id);
  const planExpiredAt = async (jobId: string) =>
    ((await readJob(host.app, jobId)) as JobBody & { planExpiredAt?: string }).planExpiredAt;

  const usersLosing = () => host.models.users.countDocuments({ 'abacAttributes.values': 'retired-dept' });

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: PEOPLE })] });
    host = await startTestHost({
      seedSettings: false,
      settingsCacheTtlMs: 0,
      jobRunner: FAST_RUNNER,
      logger,
    });
    await setSettings(host.models, settings());
  });
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  it('applies a plan that takes values from 9% of the users', async () => {
    await seed(27);
    const job = await run();
    expect(job.state).toBe('completed');
    expect(job.summary).toMatchObject({ updated: 27, unchanged: PEOPLE - 27 });
    expect(await usersLosing()).toBe(0);
  });

  it('blocks a plan that takes values from 11% of them: nothing applied, the figures on the job, a warning', async () => {
    await seed(33);
    const before = await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS });
    const job: JobBody & { guard?: object } = await run();
    expect(job).toMatchObject({ state: 'blocked', phase: 'planning' });
    expect(job.guard).toEqual({
      revokedUsers: 33,
      clearedUsers: 0,
      evictions: 0,
      usersInRun: PEOPLE,
      thresholdPercent: 10,
      thresholdUsers: 20,
      recentRevokedUsers: 0,
      windowMinutes: 60,
    });
    expect(await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS })).toBe(before);
    // Its summary says what it would do, as a dry run's does: not a clean run that did nothing.
    expect(job.summary).toMatchObject({ requested: PEOPLE, matched: PEOPLE, updated: 33, cleared: 0 });
    // The plan stays for review.
    expect(await host.models.stagedChanges.countDocuments({ jobId: job._id })).toBe(33);
    const warning = lines.find((line) => line.level === 'warn' && line.message.includes('run blocked'));
    expect(warning?.fields).toMatchObject({ jobId: job._id, revokedUsers: 33, usersInRun: PEOPLE });
    // The slot is free: the next run can start (and, with the same plan, is blocked again).
    expect((await run()).state).toBe('blocked');
  });

  it('counts what runs took in the guard’s window: 9% more people within the hour are blocked', async () => {
    await seed(27);
    expect((await run()).state).toBe('completed');
    // 27 other people now hold a value the directory does not have.
    for (let index = 100; index < 127; index += 1)
      await host.models.users.updateOne(
        { _id: userId(index) },
        { abacAttributes: [{ key: 'department', values: [generatedDepartment(index), 'retired-dept'] }] },
      );
    const before = await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS });
    const blocked: JobBody & { guard?: object } = await run();
    expect(blocked).toMatchObject({
      state: 'blocked',
      guard: { revokedUsers: 27, recentRevokedUsers: 27, windowMinutes: 60 },
    });
    expect(await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS })).toBe(before);
    // An hour later the earlier run no longer counts.
    host.clock.advance(61 * 60_000);
    expect((await run()).state).toBe('completed');
    expect(await usersLosing()).toBe(0);
  });

  it('takes the thresholds from the settings', async () => {
    await seed(33);
    await setSettings(host.models, { ABAC_Sync_Guard_Max_Revoked_Percent: 12 });
    try {
      expect((await run()).state).toBe('completed');
      expect(await usersLosing()).toBe(0);
    } finally {
      await host.models.settings.deleteOne({ _id: 'ABAC_Sync_Guard_Max_Revoked_Percent' });
    }
  });

  it('never blocks a run where no more users than ABAC_Sync_Guard_Min_Users lose values', async () => {
    // 15 active users, every one of them losing a value: 100%, but only 15 people.
    await seed(15, 15);
    const job = await run();
    expect(job).toMatchObject({ state: 'completed', summary: { matched: 15, updated: 15 } });
  });

  it('blocks a scheduled run after the map is switched to an attribute nobody has', async () => {
    await seed(0);
    await setSettings(host.models, { LDAP_ABAC_AttributeMap: JSON.stringify({ roomNumber: 'department' }) });
    // Everything but the runs' own bookkeeping and the settings the test switches.
    const except = [...RUN_COLLECTIONS, 'rocketchat_settings'];
    const before = await snapshotDatabase(host.connection, { except });
    await setSettings(host.models, {
      LDAP_Background_Sync_ABAC_Attributes: true,
      LDAP_Background_Sync_ABAC_Attributes_Interval: '* * * * * *',
    });
    let job: (JobBody & { guard?: { clearedUsers: number } }) | undefined;
    try {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const found = await host.models.syncJobs.findOne({ trigger: 'schedule', state: 'blocked' }).lean();
        if (found) {
          job = found as unknown as JobBody & { guard?: { clearedUsers: number } };
          break;
        }
        if (Date.now() > deadline) throw new Error('no scheduled run was blocked');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await setSettings(host.models, {
        LDAP_Background_Sync_ABAC_Attributes: false,
        LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
      });
      await waitForScheduleToSettle(host);
    }
    expect(job.trigger).toBe('schedule');
    expect(job.guard).toMatchObject({ revokedUsers: PEOPLE, clearedUsers: PEOPLE, usersInRun: PEOPLE });
    expect(await snapshotDatabase(host.connection, { except })).toBe(before);
    expect(
      lines.some((line) => line.level === 'warn' && (line.fields as { jobId?: string }).jobId === job!._id),
    ).toBe(true);
  });

  it("pages through a blocked run's plan: stable cursor, no duplicate, no gap, filtered by status", async () => {
    await seed(33);
    await host.models.users.updateMany(
      { _id: { $in: [userId(0), userId(1), userId(2)] } },
      { $set: { abacAttributes: [{ key: 'other', values: ['x'] }] } },
    );
    const job = await run();
    expect(job.state).toBe('blocked');
    const page = (query: string) =>
      request(host.app).get(`${JOBS_URL}/${job._id}/changes?${query}`).set(ADMIN_HEADERS);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await page(`limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      seen.push(...response.body.changes.map((change: { _id: string }) => change._id));
      cursor = response.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: 33 }, (_, index) => userId(index)));
    const first = (await page('limit=1')).body.changes[0];
    expect(first).toEqual({
      _id: userId(0),
      username: generatedUid(0),
      status: 'updated',
      added: [{ key: 'department', values: [generatedDepartment(0)] }],
      removed: [{ key: 'other', values: ['x'] }],
      roomsRevoked: [],
    });
    const updated = await page('status=updated&limit=500');
    expect(updated.body.changes).toHaveLength(33);
    expect((await page('status=cleared')).body).toEqual({
      success: true,
      changes: [],
      count: 0,
      offset: 0,
      total: 0,
    });
    // Searched by the start of a username, ignoring case; nobody here leaves a room.
    const searched = await page('username=USER00001&count=4');
    expect(searched.body).toMatchObject({ count: 4, total: 10 });
    expect(searched.body.changes.map((change: { username: string }) => change.username)).toEqual(
      [10, 11, 12, 13].map(generatedUid),
    );
    const rest = await page(`username=USER00001&count=10&cursor=${searched.body.nextCursor}`);
    expect(rest.body.changes.map((change: { username: string }) => change.username)).toEqual(
      [14, 15, 16, 17, 18, 19].map(generatedUid),
    );
    expect((await page('losesRooms=true')).body).toMatchObject({ changes: [], total: 0 });
    // Rocket.Chat's list convention beside the cursor: count and offset in, count, offset and total out.
    const third = await page('count=10&offset=20');
    expect(third.body).toMatchObject({ count: 10, offset: 20, total: 33 });
    expect(third.body.changes.map((change: { _id: string }) => change._id)).toEqual(seen.slice(20, 30));
    const runs = await request(host.app).get(`${JOBS_URL}?count=1&offset=0`).set(ADMIN_HEADERS);
    expect(runs.body).toMatchObject({
      count: 1,
      offset: 0,
      total: await host.models.syncJobs.countDocuments(),
    });
    expect((await page('cursor=dXNlcg&offset=5')).body).toMatchObject({
      error: 'error-invalid-params',
      details: [{ path: 'offset', message: 'give a cursor or an offset, not both' }],
    });
  });

  it('refuses bad paging parameters, unknown runs and runs that keep no plan', async () => {
    const [blocked] = await host.models.syncJobs.find({ state: 'blocked' }).limit(1).lean();
    for (const query of [
      'limit=0',
      'limit=501',
      'status=failed',
      'cursor=%2F%2F',
      'cursor=Zm9v%3D',
      // A cursor of the earlier format (a bare user id), and JSON that is not a position.
      'cursor=dXNlcg',
      `cursor=${Buffer.from('["a"]').toString('base64url')}`,
      'losesRooms=yes',
      'username=',
      'username=a%00b',
      `username=${'a'.repeat(101)}`,
      'sort=1',
    ]) {
      const response = await request(host.app)
        .get(`${JOBS_URL}/${blocked!._id}/changes?${query}`)
        .set(ADMIN_HEADERS);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('error-invalid-params');
    }
    const unknown = await request(host.app).get(`${JOBS_URL}/nope/changes`).set(ADMIN_HEADERS);
    expect(unknown.status).toBe(404);
    const [completed] = await host.models.syncJobs
      .find({ state: 'completed', dryRun: false })
      .limit(1)
      .lean();
    const applied = await request(host.app).get(`${JOBS_URL}/${completed!._id}/changes`).set(ADMIN_HEADERS);
    expect(applied.status).toBe(409);
    expect(applied.body.error).toBe('error-sync-plan-not-reviewable');
    const anonymous = await request(host.app).get(`${JOBS_URL}/${blocked!._id}/changes`);
    expect(anonymous.status).toBe(401);
  });

  it('removes kept plans after ABAC_Sync_Plan_Retention_Minutes, without TTL indexes, and says they expired', async () => {
    await setSettings(host.models, { ABAC_Sync_Plan_Retention_Minutes: 60 });
    const [blocked] = await host.models.syncJobs
      .find({ state: 'blocked' })
      .sort({ finishedAt: -1 })
      .limit(1)
      .lean();
    expect(await host.models.stagedChanges.countDocuments({ jobId: blocked!._id })).toBeGreaterThan(0);
    host.clock.advance(61 * 60_000);
    const deadline = Date.now() + 10_000;
    while ((await host.models.stagedChanges.countDocuments()) > 0) {
      if (Date.now() > deadline) throw new Error('the expired plans were not removed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const expired = await request(host.app).get(`${JOBS_URL}/${blocked!._id}/changes`).set(ADMIN_HEADERS);
    expect(expired.status).toBe(409);
    expect(expired.body.error).toBe('error-sync-plan-expired');
    const job = await request(host.app).get(`${JOBS_URL}/${blocked!._id}`).set(ADMIN_HEADERS);
    expect(job.body.job.planExpiredAt).toBe(new Date(host.clock.now()).toISOString());
  });

  it('keeps at most ABAC_Sync_Plans_Kept_Max plans, and removes finished runs and their queue entries after ABAC_Sync_Job_Retention_Days', async () => {
    await seed(0);
    const dryRuns: JobBody[] = [];
    for (let index = 0; index < 3; index += 1) {
      dryRuns.push(await run2({ dryRun: true }));
      host.clock.advance(1000);
    }
    const agenda = host.connection.collection('abac_sync_agenda_jobs');
    const queued = (jobId: string) => agenda.countDocuments({ 'data.jobId': jobId });
    expect(await queued(dryRuns[0]!._id)).toBe(1);
    await setSettings(host.models, { ABAC_Sync_Plans_Kept_Max: 2 });
    try {
      await within('the oldest plan expired', 10_000, async () => !!(await planExpiredAt(dryRuns[0]!._id)));
      expect(await planExpiredAt(dryRuns[1]!._id)).toBeUndefined();
      expect(await planExpiredAt(dryRuns[2]!._id)).toBeUndefined();
    } finally {
      await host.models.settings.deleteOne({ _id: 'ABAC_Sync_Plans_Kept_Max' });
    }
    // Thirty-one days on, every run has ended long ago and every plan has expired: all are removed.
    host.clock.advance(31 * 86_400_000);
    await within('the runs removed', 10_000, async () => (await host.models.syncJobs.countDocuments()) === 0);
    const gone = await request(host.app).get(`${JOBS_URL}/${dryRuns[2]!._id}`).set(ADMIN_HEADERS);
    expect(gone.status).toBe(404);
    await within('their queue entries removed', 10_000, async () => (await queued(dryRuns[2]!._id)) === 0);
    expect(await host.models.stagedChanges.countDocuments()).toBe(0);
  });
});
