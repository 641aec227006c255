import mongoose, { type Connection } from 'mongoose';
import request from 'supertest';
import { generatePeopleLdif, readFixture } from '../../harness/fixtures';
import { Slapd } from '../../harness/slapd';
import { testServers } from '../../harness/test-servers';
import { createModels, ensureIndexes, type Models } from '../../models';
import { reportFigure } from '../helpers/figures';
import { expectLegacyRoomSyncedOnce, seedLegacyRoom } from '../helpers/legacy-room';
import {
  ADMIN_HEADERS,
  ldapSettings,
  licenseKeys,
  makeLicense,
  setSettings,
  testAdmin,
} from '../helpers/host';
import { startHostProcess, type HostProcess, type HostProcessConfig } from '../helpers/host-process';
import { FAST_RUNNER, JOBS_URL, readJob, startRun, waitForEnd, type JobBody } from '../helpers/jobs';

const PEOPLE = 400;
const ATTRIBUTE_CHANGED = 'abac.subject.attribute.changed';
/** Each LDAP search and each room removal call takes this long: a run lasts long enough to kill its runner. */
const DELAY_MS = 40;
const RUNNER = { ...FAST_RUNNER, planBatchSize: 20, applyBatchSize: 20 };
/** How long a dead runner's run may wait for another process: the lock's lifetime, a poll, and slack. */
const TAKEOVER_BOUND_MS = RUNNER.lockLifetimeMs + RUNNER.processEveryMs + 2000;

/**
 * Two host processes on one database, each taking part in runs and in the schedule, as in a real
 * deployment: one runner at a time, takeover when it dies, one run per tick.
 */
describe('directory-wide runs across two host processes', () => {
  let slapd: Slapd;
  let connection: Connection;
  let models: Models;
  let config: HostProcessConfig;
  let hosts: HostProcess[] = [];
  const logLines: string[] = [];

  async function seed() {
    await Promise.all(
      (
        [
          'users',
          'rooms',
          'evictionRecords',
          'subscriptions',
          'messages',
          'serverEvents',
          'syncJobs',
          'stagedChanges',
          'writeClaims',
        ] as const
      ).map((name) => connection.collection(models[name].collection.collectionName).deleteMany({})),
    );
    await models.users.create(testAdmin(Date.now()));
    await seedLegacyRoom(models, PEOPLE);
  }

  const expectEverythingSyncedOnce = () => expectLegacyRoomSyncedOnce(models, PEOPLE);

  const startHost = (delayMs = DELAY_MS) =>
    startHostProcess({ ...config, delayMs, onLogLine: (line) => logLines.push(line) });

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [readFixture('base.ldif'), generatePeopleLdif({ count: PEOPLE })] });
    const dbName = `t_job_runner_${process.pid}_${Date.now() % 100000}`;
    connection = await mongoose.createConnection(testServers().mongo.uri, { dbName }).asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users', protected: true });
    const info = slapd.info();
    await setSettings(models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: info.port,
      LDAP_BaseDN: info.baseDN,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
      // Every user here loses a value on purpose: the mass-revocation guard is tested on its own.
      ABAC_Sync_Guard_Max_Revoked_Percent: 100,
    });
    config = {
      mongoUri: testServers().mongo.uri,
      dbName,
      license: makeLicense(),
      publicKey: licenseKeys.publicKeyPem,
      jobRunner: RUNNER,
      settingsCacheTtlMs: 100,
    };
    hosts = await Promise.all([startHost(), startHost()]);
  }, 60_000);
  beforeEach(seed);
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await connection?.dropDatabase();
    await connection?.close();
    await slapd?.stop();
  });

  /** Polls until `condition` holds for the job (read through `host`), failing after `deadlineMs`. */
  async function waitForJob(
    host: HostProcess,
    jobId: string,
    condition: (job: JobBody) => boolean,
    deadlineMs = 20_000,
  ) {
    const started = Date.now();
    for (;;) {
      const job = await readJob(host.baseUrl, jobId);
      if (condition(job)) return job;
      if (Date.now() - started > deadlineMs) throw new Error(`timed out; the job is ${JSON.stringify(job)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function killRunnerWhen(phase: 'planning' | 'applying') {
    const queued = await startRun(hosts[0]!.baseUrl);
    const midway = await waitForJob(
      hosts[0]!,
      queued._id,
      (job) => job.phase === phase && job.state === 'running' && job.progress.processed >= 100,
    );
    const runnerIndex = hosts.findIndex((host) => midway.runner?.endsWith(`:${host.pid}`));
    expect(runnerIndex).toBeGreaterThanOrEqual(0);
    const [dead] = hosts.splice(runnerIndex, 1);
    const survivor = hosts[0]!;
    const killedAt = Date.now();
    await dead!.kill();
    const resumed = await waitForJob(
      survivor,
      queued._id,
      (job) => job.runner?.endsWith(`:${survivor.pid}`) === true,
      TAKEOVER_BOUND_MS + 5000,
    );
    const takeoverMs = Date.now() - killedAt;
    reportFigure(
      `runner killed while ${phase}: taken over after`,
      `${takeoverMs} ms (bound ${TAKEOVER_BOUND_MS} ms)`,
    );
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    // It resumed from its checkpoint, not from the start.
    expect(resumed.phase === phase ? resumed.progress.processed : Infinity).toBeGreaterThanOrEqual(100);
    const done = await waitForEnd(survivor.baseUrl, queued._id, 30_000);
    hosts.push(await startHost());
    return done;
  }

  it('gives a run up at its next batch when its host stops (close()); the other host finishes it once', async () => {
    const queued = await startRun(hosts[0]!.baseUrl);
    const midway = await waitForJob(
      hosts[0]!,
      queued._id,
      (job) => job.phase === 'planning' && job.state === 'running' && job.progress.processed >= 100,
    );
    const runnerIndex = hosts.findIndex((host) => midway.runner?.endsWith(`:${host.pid}`));
    expect(runnerIndex).toBeGreaterThanOrEqual(0);
    const [stopped] = hosts.splice(runnerIndex, 1);
    const survivor = hosts[0]!;
    const stoppedAt = Date.now();
    await stopped!.stop();
    reportFigure('host stopped mid-run: close() returned after', `${Date.now() - stoppedAt} ms`);
    // The stopping host left the run where it was instead of running it to its end.
    expect((await readJob(survivor.baseUrl, queued._id)).state).toBe('running');
    const done = await waitForEnd(survivor.baseUrl, queued._id, 30_000);
    expect(done).toMatchObject({ state: 'completed', summary: { matched: PEOPLE, updated: PEOPLE } });
    expect(done.runner?.endsWith(`:${survivor.pid}`)).toBe(true);
    await expectEverythingSyncedOnce();
    hosts.push(await startHost());
  }, 60_000);

  it('takes a run over from a runner killed while planning, resumes it, and completes it once', async () => {
    const job = await killRunnerWhen('planning');
    expect(job.state).toBe('completed');
    expect(job.summary).toMatchObject({ matched: PEOPLE, updated: PEOPLE, roomsRevoked: PEOPLE });
    await expectEverythingSyncedOnce();
  }, 60_000);

  it('takes a run over from a runner killed while applying: every change and eviction done once', async () => {
    const job = await killRunnerWhen('applying');
    expect(job.state).toBe('completed');
    expect(job.summary).toMatchObject({ matched: PEOPLE, updated: PEOPLE });
    await expectEverythingSyncedOnce();
  }, 60_000);

  it('runs once per tick on a short schedule, skips ticks while a run lasts, and stops when switched off', async () => {
    await setSettings(models, {
      LDAP_Background_Sync_ABAC_Attributes: true,
      LDAP_Background_Sync_ABAC_Attributes_Interval: '*/2 * * * * *',
    });
    try {
      const deadline = Date.now() + 20_000;
      while ((await models.syncJobs.countDocuments({ state: 'completed', trigger: 'schedule' })) < 3) {
        if (Date.now() > deadline) throw new Error('three scheduled runs did not complete in time');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await setSettings(models, { LDAP_Background_Sync_ABAC_Attributes: false });
    }
    // Both processes see the switch within their next schedule read; a run already queued may still end.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const settled = await models.syncJobs.countDocuments();
    const jobs = await models.syncJobs.find().sort({ createdAt: 1 }).lean();
    for (const job of jobs) {
      expect(job.trigger).toBe('schedule');
      expect(job.actor).toEqual({ type: 'system', jobId: job._id });
    }
    // One run per tick: no two runs were created in the same two-second tick, and none overlapped.
    const ticks = jobs.map((job) => Math.floor(job.createdAt.getTime() / 2000));
    expect(new Set(ticks).size).toBe(ticks.length);
    for (let index = 1; index < jobs.length; index += 1)
      expect(jobs[index]!.startedAt!.getTime()).toBeGreaterThanOrEqual(
        jobs[index - 1]!.finishedAt!.getTime(),
      );
    const events = await models.serverEvents.find({ t: ATTRIBUTE_CHANGED }).lean();
    expect(events).toHaveLength(PEOPLE);
    expect(events[0]!.actor).toEqual({ type: 'system', jobId: expect.any(String) });
    await expectEverythingSyncedOnce();

    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await models.syncJobs.countDocuments()).toBe(settled);
  }, 60_000);

  it('warns of an invalid interval and runs nothing (no crash, no job)', async () => {
    const linesBefore = logLines.length;
    await setSettings(models, {
      LDAP_Background_Sync_ABAC_Attributes: true,
      LDAP_Background_Sync_ABAC_Attributes_Interval: 'every_2_hours',
    });
    try {
      const deadline = Date.now() + 10_000;
      const warned = () =>
        logLines
          .slice(linesBefore)
          .filter((line) => line.includes('the sync interval is not a cron expression or a known key'));
      while (warned().length < hosts.length) {
        if (Date.now() > deadline) throw new Error('no warning of the invalid interval');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(JSON.parse(warned()[0]!)).toMatchObject({
        level: 40,
        setting: 'LDAP_Background_Sync_ABAC_Attributes_Interval',
        interval: 'every_2_hours',
      });
      for (const host of hosts)
        expect((await request(host.baseUrl).get(JOBS_URL).set(ADMIN_HEADERS)).status).toBe(200);
      expect(await models.syncJobs.countDocuments()).toBe(0);
    } finally {
      await setSettings(models, { LDAP_Background_Sync_ABAC_Attributes: false });
    }
  }, 30_000);
});
