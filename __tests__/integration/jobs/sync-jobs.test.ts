import request from 'supertest';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  seedAliceInSalesRoom,
  setSettings,
  SYNC_URL,
  startTestHost,
  type TestHost,
} from '../../helpers/host';
import { FAST_RUNNER, JOBS_URL, startRun, waitForEnd } from '../../helpers/jobs';

const ATTRIBUTE_CHANGED = 'abac.subject.attribute.changed';
const REVOKED = 'abac.action.performed';

/** Directory-wide runs started through the routes, on the real slapd and MongoDB-wire server. */
describe('directory-wide runs', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ jobRunner: FAST_RUNNER });
    await seedAliceInSalesRoom(host.models);
    await host.models.users.create([
      { _id: 'u-bob', username: 'bob', active: true, ldap: true },
      { _id: 'u-carol', username: 'carol', active: true, ldap: true },
      { _id: 'u-ghost', username: 'ghost', active: true, ldap: true },
      // Not the directory's users: never part of a run.
      { _id: 'u-local', username: 'dave', active: true },
      { _id: 'u-gone', username: 'jose', active: false, ldap: true },
    ]);
  });
  afterAll(() => host?.close());

  beforeEach(() => {
    // Runs started in one test are apart in time, as they are in use (the list is newest first).
    host.clock.advance(1000);
  });

  it('syncs every active LDAP user, evicts, audits with the admin as actor, and reports the counters', async () => {
    const queued = await startRun(host.app);
    expect(queued).toMatchObject({ state: 'queued', trigger: 'admin', dryRun: false, kind: 'full' });
    expect(queued.actor).toEqual({ type: 'user', _id: 'admin-user-id', username: 'root' });

    const job = await waitForEnd(host.app, queued._id);
    expect(job.state).toBe('completed');
    expect(job.summary).toEqual({
      requested: 4,
      matched: 4,
      updated: 3,
      cleared: 0,
      unchanged: 0,
      notFoundInLdap: 1,
      failed: 0,
      roomsRevoked: 1,
      stale: 0,
    });
    expect(job.phase).toBe('applying');
    expect(job.progress).toEqual({ total: 3, processed: 3 });

    const alice = await host.models.users.findById('u-alice').lean();
    expect(alice?.abacAttributes).toEqual(
      expect.arrayContaining([{ key: 'department', values: ['eng', 'eng-platform'] }]),
    );
    expect(alice?.__rooms).toEqual([]);
    expect(await host.models.subscriptions.countDocuments({ rid: 'r-sales' })).toBe(0);
    expect((await host.models.users.findById('u-local').lean())?.abacAttributes).toBeUndefined();
    expect((await host.models.users.findById('u-gone').lean())?.abacAttributes).toBeUndefined();

    const changed = await host.models.serverEvents.find({ t: ATTRIBUTE_CHANGED }).lean();
    expect(
      changed
        .map((event) => (event.data.find((d) => d.key === 'subject')?.value as { _id: string })._id)
        .sort(),
    ).toEqual(['u-alice', 'u-bob', 'u-carol']);
    for (const event of changed) {
      expect(event.actor).toEqual({ type: 'user', _id: 'admin-user-id', username: 'root' });
      expect(event.data).toContainEqual({ key: 'requestId', value: queued._id });
    }
    expect(await host.models.serverEvents.countDocuments({ t: REVOKED })).toBe(1);
    // A real run's staging is removed once applied.
    expect(await host.models.stagedChanges.countDocuments({ jobId: queued._id })).toBe(0);
  });

  it('finds nothing to do on the next run (the nightly case): no write, no audit', async () => {
    const events = await host.models.serverEvents.countDocuments();
    const job = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(job.state).toBe('completed');
    expect(job.summary).toMatchObject({
      matched: 4,
      unchanged: 3,
      notFoundInLdap: 1,
      updated: 0,
      roomsRevoked: 0,
    });
    expect(job.progress).toEqual({ total: 0, processed: 0 });
    expect(await host.models.serverEvents.countDocuments()).toBe(events);
  });

  it('plans without writing in a dry run, and keeps the plan', async () => {
    await host.models.users.updateOne(
      { _id: 'u-bob' },
      { $set: { abacAttributes: [{ key: 'department', values: ['old'] }] } },
    );
    const events = await host.models.serverEvents.countDocuments();
    const job = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id);
    expect(job).toMatchObject({ state: 'completed', dryRun: true, phase: 'planning' });
    expect(job.summary).toMatchObject({ matched: 4, updated: 1, unchanged: 2, notFoundInLdap: 1 });
    expect((await host.models.users.findById('u-bob').lean())?.abacAttributes).toEqual([
      { key: 'department', values: ['old'] },
    ]);
    expect(await host.models.serverEvents.countDocuments()).toBe(events);
    const staged = await host.models.stagedChanges.find({ jobId: job._id }).lean();
    expect(staged).toEqual([
      expect.objectContaining({
        userId: 'u-bob',
        status: 'updated',
        before: [{ key: 'department', values: ['old'] }],
        removed: [{ key: 'department', values: ['old'] }],
      }),
    ]);
  });

  it('lists runs newest first, with a limit', async () => {
    const response = await request(host.app).get(`${JOBS_URL}?limit=2`).set(ADMIN_HEADERS);
    expect(response.status).toBe(200);
    expect(response.body.jobs).toHaveLength(2);
    expect(response.body.jobs[0].dryRun).toBe(true);
    expect(response.body.jobs[1].dryRun).toBe(false);
    const all = await request(host.app).get(JOBS_URL).set(ADMIN_HEADERS);
    expect(all.body.jobs).toHaveLength(3);
  });

  it('answers 404 error-sync-job-not-found for an unknown run', async () => {
    for (const path of [`${JOBS_URL}/nope`, `${JOBS_URL}/nope/cancel`]) {
      const response = path.endsWith('cancel')
        ? await request(host.app).post(path).set(ADMIN_HEADERS)
        : await request(host.app).get(path).set(ADMIN_HEADERS);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ success: false, error: 'error-sync-job-not-found' });
    }
  });

  it('refuses bad bodies and parameters with 400 and details, starting nothing', async () => {
    const before = await host.models.syncJobs.countDocuments();
    for (const body of [{ dryRun: 'yes' }, { dryRun: true, users: ['a'] }, []]) {
      const response = await request(host.app).post(JOBS_URL).set(ADMIN_HEADERS).send(body);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('error-invalid-body-params');
      expect(response.body.details?.length).toBeGreaterThan(0);
    }
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'sort=1']) {
      const response = await request(host.app).get(`${JOBS_URL}?${query}`).set(ADMIN_HEADERS);
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('error-invalid-params');
    }
    const cancel = await request(host.app)
      .post(`${JOBS_URL}/x/cancel`)
      .set(ADMIN_HEADERS)
      .send({ now: true });
    expect(cancel.status).toBe(400);
    expect(await host.models.syncJobs.countDocuments()).toBe(before);
  });

  it('tells an unauthenticated caller nothing; with ABAC off refuses to start a run, yet lists, reads and discards', async () => {
    for (const call of [
      request(host.app).post(JOBS_URL).send({}),
      request(host.app).get(JOBS_URL),
      request(host.app).get(`${JOBS_URL}/x`),
      request(host.app).post(`${JOBS_URL}/x/cancel`),
    ]) {
      const response = await call;
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('error-unauthorized');
    }
    await setSettings(host.models, { ABAC_Enabled: false });
    host.clock.advance(10_000);
    try {
      const response = await request(host.app).post(JOBS_URL).set(ADMIN_HEADERS).send({});
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('error-abac-not-enabled');
      // The emergency stop: reading and stopping need the gate alone.
      expect((await request(host.app).get(JOBS_URL).set(ADMIN_HEADERS)).status).toBe(200);
      expect((await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).status).toBe(200);
      const discard = await request(host.app).post(`${SYNC_URL}/feed/discard`).set(ADMIN_HEADERS).send({});
      expect(discard.body.error).toBe('error-feed-not-blocked');
      const unknown = await request(host.app).get(`${JOBS_URL}/x`).set(ADMIN_HEADERS);
      expect(unknown.body.error).toBe('error-sync-job-not-found');
    } finally {
      await setSettings(host.models, { ABAC_Enabled: true });
      host.clock.advance(10_000);
    }
  });
});

/** A process that only queues runs (jobRunner: false): the queued run waits, one at a time. */
describe('one run at a time', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ jobRunner: false });
  });
  afterAll(() => host?.close());

  it('answers 409 error-sync-already-running with the active run, until it is cancelled', async () => {
    const first = await startRun(host.app);
    const second = await request(host.app).post(JOBS_URL).set(ADMIN_HEADERS).send({ dryRun: true });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ success: false, error: 'error-sync-already-running' });
    expect(second.body.job).toMatchObject({ _id: first._id, state: 'queued' });
    // Nothing counted yet: the total is unknown, not 0.
    expect(second.body.job.progress).toEqual({ processed: 0 });
    expect(await host.models.syncJobs.countDocuments()).toBe(1);

    const cancelled = await request(host.app).post(`${JOBS_URL}/${first._id}/cancel`).set(ADMIN_HEADERS);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.job).toMatchObject({
      _id: first._id,
      state: 'cancelled',
      cancelRequested: true,
      cancelledBy: { type: 'user', _id: ADMIN_ID, username: 'root' },
    });
    // A run that has ended is not cancelled again: 409 with the run as it ended, nothing changed.
    const before = await host.models.syncJobs.findById(first._id).lean();
    const again = await request(host.app).post(`${JOBS_URL}/${first._id}/cancel`).set(ADMIN_HEADERS);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      success: false,
      error: 'error-sync-job-ended',
      job: { _id: first._id, state: 'cancelled' },
    });
    expect(await host.models.syncJobs.findById(first._id).lean()).toEqual(before);

    const third = await startRun(host.app);
    expect(third._id).not.toBe(first._id);
  });

  it('reads and cancels a queued run after ABAC was switched off (the emergency stop)', async () => {
    await host.models.syncJobs.deleteMany({});
    const queued = await startRun(host.app);
    await setSettings(host.models, { ABAC_Enabled: false });
    host.clock.advance(10_000);
    try {
      const read = await request(host.app).get(`${JOBS_URL}/${queued._id}`).set(ADMIN_HEADERS);
      expect(read.body.job).toMatchObject({ _id: queued._id, state: 'queued' });
      const cancel = await request(host.app)
        .post(`${JOBS_URL}/${queued._id}/cancel`)
        .set(ADMIN_HEADERS)
        .send({});
      expect(cancel.status).toBe(200);
      expect(cancel.body.job).toMatchObject({ state: 'cancelled' });
      expect((await host.models.syncJobs.findById(queued._id).lean())?.state).toBe('cancelled');
    } finally {
      await setSettings(host.models, { ABAC_Enabled: true });
      host.clock.advance(10_000);
    }
  });
});
