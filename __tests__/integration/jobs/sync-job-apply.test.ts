import request from 'supertest';
import {
  generatePeopleLdif,
  generatedDepartment,
  generatedUid,
  standardDirectory,
} from '../../../harness/fixtures';
import { z } from 'zod';
import { Slapd } from '../../../harness/slapd';
import { syncJobSchema } from '../../../lib/jobs/sync-job';
import { ATTRIBUTE_CHANGED_EVENT, ACTION_PERFORMED_EVENT } from '../../../lib/sync/audit-events';
import { RUN_COLLECTIONS, snapshotDatabase } from '../../helpers/database';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';
import { JOBS_URL, startRun, waitForEnd, waitForScheduleToSettle, type JobBody } from '../../helpers/jobs';
import { changeAsAdmin } from '../../helpers/ldap-admin';
import { SETTING_DEFAULTS } from '../../../lib/settings';

// Applying a reviewed plan on the real slapd and the MongoDB-wire server: a blocked plan applied by an
// admin, users changed since the plan left alone (stale), refusals, and paging a large plan while it is
// being applied. The in-memory cases are in reviewed-plan.test.ts.

/** People in the directory; the tests seed as many of them as MongoDB users as they need. */
const DIRECTORY_PEOPLE = 10_000;
const PEOPLE = 300;
const userId = (index: number) => `id-${String(index).padStart(5, '0')}`;
const department = (index: number) => [{ key: 'department', values: [generatedDepartment(index)] }];
const ROOM = 'r-dept-0';
/** The generated people of dept-0 among the first PEOPLE: the members of ROOM. */
const ROOM_MEMBERS = Array.from({ length: PEOPLE }, (_, index) => index).filter((index) => index % 50 === 0);

type AppliedJob = JobBody & { reviewedJobId?: string; guard?: { evictions: number } };

describe('applying a reviewed plan of a directory-wide run', () => {
  let slapd: Slapd;
  let host: TestHost;

  /** `count` users; the first `losing` hold a value the directory does not give them; ROOM and its members. */
  async function seed(count: number, losing = 0) {
    await Promise.all([
      host.models.users.deleteMany({ ldap: true }),
      host.models.rooms.deleteMany({}),
      host.models.evictionRecords.deleteMany({}),
      host.models.subscriptions.deleteMany({}),
      host.models.serverEvents.deleteMany({}),
      host.models.syncJobs.deleteMany({}),
      host.models.stagedChanges.deleteMany({}),
    ]);
    const members = new Set(ROOM_MEMBERS.filter((index) => index < count));
    await host.models.rooms.create({
      _id: ROOM,
      t: 'p',
      name: 'dept-0',
      usersCount: members.size,
      abacAttributes: department(0),
    });
    for (let start = 0; start < count; start += 2000)
      await host.models.users.insertMany(
        Array.from({ length: Math.min(2000, count - start) }, (_, offset) => {
          const index = start + offset;
          return {
            _id: userId(index),
            username: generatedUid(index),
            active: true,
            ldap: true,
            abacAttributes:
              index < losing
                ? [{ key: 'department', values: [generatedDepartment(index), 'retired-dept'] }]
                : department(index),
            __rooms: members.has(index) ? [ROOM] : [],
          };
        }),
      );
    await host.models.subscriptions.insertMany(
      [...members].map((index) => ({
        _id: `s-${index}`,
        rid: ROOM,
        u: { _id: userId(index), username: generatedUid(index) },
      })),
    );
  }

  const apply = (jobId: string) =>
    request(host.app).post(`${JOBS_URL}/${jobId}/apply`).set(ADMIN_HEADERS).send({});

  function setDepartment(index: number, value: string) {
    const info = slapd.info();
    return changeAsAdmin(info, [
      {
        dn: `uid=${generatedUid(index)},ou=people,${info.baseDN}`,
        operation: 'replace',
        type: 'departmentNumber',
        values: [value],
      },
    ]);
  }

  beforeAll(async () => {
    slapd = await Slapd.start({
      ldif: [...standardDirectory(), generatePeopleLdif({ count: DIRECTORY_PEOPLE })],
    });
    host = await startTestHost({
      seedSettings: false,
      settingsCacheTtlMs: 0,
      jobRunner: {
        processEveryMs: 100,
        lockLifetimeMs: 3000,
        maintainEveryMs: 200,
        heartbeatMs: 200,
        planBatchSize: 500,
        applyBatchSize: 50,
      },
    });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
    });
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  it('applies a scheduled run blocked by a switched map as an admin reviewed it: everyone cleared, audited once, evictions exact', async () => {
    await seed(PEOPLE);
    await host.models.rooms.create({ _id: 'r-plain', t: 'c', name: 'general', usersCount: PEOPLE });
    await setSettings(host.models, { LDAP_ABAC_AttributeMap: JSON.stringify({ roomNumber: 'department' }) });
    await setSettings(host.models, {
      LDAP_Background_Sync_ABAC_Attributes: true,
      LDAP_Background_Sync_ABAC_Attributes_Interval: '* * * * * *',
    });
    let blocked: AppliedJob | undefined;
    try {
      const deadline = Date.now() + 20_000;
      while (!blocked) {
        const found = await host.models.syncJobs.findOne({ trigger: 'schedule', state: 'blocked' }).lean();
        if (found) blocked = found as unknown as AppliedJob;
        else if (Date.now() > deadline) throw new Error('no scheduled run was blocked');
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await setSettings(host.models, { LDAP_Background_Sync_ABAC_Attributes: false });
      await waitForScheduleToSettle(host);
    }
    expect(blocked.guard?.evictions).toBe(ROOM_MEMBERS.length);

    const started = await apply(blocked._id);
    expect(started.status).toBe(202);
    // The answer is the one the OpenAPI document describes.
    expect(
      z
        .object({ success: z.literal(true), job: syncJobSchema.strict() })
        .strict()
        .safeParse(started.body).error,
    ).toBeUndefined();
    expect(started.body.job).toMatchObject({
      reviewedJobId: blocked._id,
      trigger: 'admin',
      dryRun: false,
      actor: { type: 'user', _id: ADMIN_ID, username: 'root' },
    });
    const job = await waitForEnd(host.app, started.body.job._id, 60_000);
    expect(job).toMatchObject({ state: 'completed', phase: 'applying' });
    expect(job.summary).toMatchObject({
      requested: PEOPLE,
      cleared: PEOPLE,
      stale: 0,
      roomsRevoked: ROOM_MEMBERS.length,
    });

    expect(await host.models.users.countDocuments({ ldap: true, abacAttributes: { $exists: true } })).toBe(0);
    const changes = await host.models.serverEvents.find({ t: ATTRIBUTE_CHANGED_EVENT }).lean();
    expect(changes).toHaveLength(PEOPLE);
    const subjects = new Set(
      changes.map((event) => (event.data.find(({ key }) => key === 'subject')!.value as { _id: string })._id),
    );
    expect(subjects.size).toBe(PEOPLE);
    const revocations = await host.models.serverEvents.find({ t: ACTION_PERFORMED_EVENT }).lean();
    for (const event of [...changes, ...revocations]) {
      expect(event.actor).toEqual({ type: 'user', _id: ADMIN_ID, username: 'root' });
      expect(event.data).toContainEqual({ key: 'reviewedJobId', value: blocked._id });
    }
    // Exactly the planned evictions: ROOM's members left it; the room without attributes kept everyone.
    expect(
      revocations
        .map((event) => (event.data.find(({ key }) => key === 'subject')!.value as { _id: string })._id)
        .sort(),
    ).toEqual(ROOM_MEMBERS.map(userId));
    expect(await host.models.subscriptions.countDocuments({ rid: ROOM })).toBe(0);
    expect((await host.models.rooms.findById(ROOM).lean())?.usersCount).toBe(0);
    expect((await host.models.rooms.findById('r-plain').lean())?.usersCount).toBe(PEOPLE);

    const again = await apply(blocked._id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'error-sync-plan-already-applied', appliedBy: job._id });
    await setSettings(host.models, {
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
    });
  }, 90_000);

  it('leaves a user changed by a named-users request after the dry run as they are, and applies everyone else', async () => {
    await seed(PEOPLE, 40);
    const dry = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id);
    expect(dry).toMatchObject({ state: 'completed', summary: { updated: 40 } });
    // The directory moves user 3; a named-users request stores the new value.
    await setDepartment(3, 'dept-moved');
    const named = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: [generatedUid(3)] });
    expect(named.status).toBe(200);
    expect(named.body.users[0]).toMatchObject({ status: 'updated' });
    const eventsBefore = await host.models.serverEvents.countDocuments();

    const started = await apply(dry._id);
    expect(started.status).toBe(202);
    const job = await waitForEnd(host.app, started.body.job._id, 60_000);
    expect(job).toMatchObject({ state: 'completed', summary: { updated: 39, stale: 1 } });
    // Nothing lost: user 3 keeps the value the later sync wrote.
    expect((await host.models.users.findById(userId(3)).lean())?.abacAttributes).toEqual([
      { key: 'department', values: ['dept-moved'] },
    ]);
    expect(await host.models.users.countDocuments({ 'abacAttributes.values': 'retired-dept' })).toBe(0);
    expect(await host.models.serverEvents.countDocuments()).toBe(eventsBefore + 39);
    const stale = await request(host.app).get(`${JOBS_URL}/${dry._id}/changes?stale=true`).set(ADMIN_HEADERS);
    expect(stale.status).toBe(200);
    expect(stale.body.changes).toEqual([
      expect.objectContaining({ _id: userId(3), username: generatedUid(3), stale: true }),
    ]);
    await setDepartment(3, generatedDepartment(3));
  }, 90_000);

  it('refuses an apply of a run that kept no plan, of an unknown run, an expired plan, a bad body, and without login', async () => {
    await seed(PEOPLE, 30);
    const real = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(real.state).toBe('completed');
    const before = await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS });
    const notKept = await apply(real._id);
    expect(notKept.status).toBe(409);
    expect(notKept.body.error).toBe('error-sync-plan-not-reviewable');
    expect((await apply('nope')).status).toBe(404);
    const dry = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id);
    const badBody = await request(host.app)
      .post(`${JOBS_URL}/${dry._id}/apply`)
      .set(ADMIN_HEADERS)
      .send({ force: true });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toBe('error-invalid-body-params');
    const anonymous = await request(host.app).post(`${JOBS_URL}/${dry._id}/apply`).send({});
    expect(anonymous.status).toBe(401);
    host.clock.advance(25 * 60 * 60_000);
    const expired = await apply(dry._id);
    expect(expired.status).toBe(409);
    expect(expired.body.error).toBe('error-sync-plan-expired');
    expect(await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS })).toBe(before);
  }, 60_000);

  it('refuses with 409 error-sync-plan-outdated a plan made under another map, or past its maximum age', async () => {
    await seed(PEOPLE, 30);
    const dry = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id);
    expect(dry).toMatchObject({ state: 'completed', summary: { updated: 30 } });
    const before = await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS });
    const map = JSON.stringify({ departmentNumber: 'department' });
    await setSettings(host.models, { LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'dept' }) });
    try {
      const otherMap = await apply(dry._id);
      expect(otherMap.status).toBe(409);
      expect(otherMap.body).toMatchObject({ error: 'error-sync-plan-outdated' });
      expect(otherMap.body.message).toMatch(/attribute map/);
    } finally {
      await setSettings(host.models, { LDAP_ABAC_AttributeMap: map });
    }
    // The map put back: the plan applies again, until it is older than the maximum age.
    await setSettings(host.models, { ABAC_Sync_Plan_Max_Age_Minutes: 60 });
    try {
      host.clock.advance(61 * 60_000);
      const old = await apply(dry._id);
      expect(old.status).toBe(409);
      expect(old.body.message).toMatch(/older than ABAC_Sync_Plan_Max_Age_Minutes \(60\)/);
    } finally {
      // Back to the default, as the module registered it at start.
      await setSettings(host.models, {
        ABAC_Sync_Plan_Max_Age_Minutes: SETTING_DEFAULTS.ABAC_Sync_Plan_Max_Age_Minutes,
      });
    }
    expect(await snapshotDatabase(host.connection, { except: RUN_COLLECTIONS })).toBe(before);
    // Within the age, under the same settings, it applies.
    const applied = await apply(dry._id);
    expect(applied.status).toBe(202);
    expect((await waitForEnd(host.app, applied.body.job._id)).state).toBe('completed');
  }, 60_000);

  it('pages through 10,000 planned changes with no duplicate and no gap while the plan is being applied', async () => {
    await seed(DIRECTORY_PEOPLE, DIRECTORY_PEOPLE);
    const dry = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id, 120_000);
    expect(dry).toMatchObject({ state: 'completed', summary: { updated: DIRECTORY_PEOPLE } });
    const [first, second] = await Promise.all([apply(dry._id), apply(dry._id)]);
    expect([first.status, second.status].sort()).toEqual([202, 409]);
    const loser = first.status === 409 ? first : second;
    expect(loser.body.error).toBe('error-sync-plan-running');
    const applyingId = (first.status === 202 ? first : second).body.job._id as string;

    const seen: string[] = [];
    let cursor: string | undefined;
    let pagesWhileApplying = 0;
    do {
      const page = await request(host.app)
        .get(`${JOBS_URL}/${dry._id}/changes?limit=100${cursor ? `&cursor=${cursor}` : ''}`)
        .set(ADMIN_HEADERS);
      expect(page.status).toBe(200);
      seen.push(...page.body.changes.map((change: { _id: string }) => change._id));
      cursor = page.body.nextCursor;
      const applying = await host.models.syncJobs.findById(applyingId).lean();
      if (applying?.state === 'running' && applying.phase === 'applying') pagesWhileApplying += 1;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: DIRECTORY_PEOPLE }, (_, index) => userId(index)));
    expect(pagesWhileApplying).toBeGreaterThan(0);
    const job = await waitForEnd(host.app, applyingId, 120_000);
    expect(job).toMatchObject({ state: 'completed', summary: { updated: DIRECTORY_PEOPLE, stale: 0 } });
    expect(await host.models.users.countDocuments({ 'abacAttributes.values': 'retired-dept' })).toBe(0);
  }, 240_000);
});
