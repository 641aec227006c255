import request from 'supertest';
import { ADMIN_HEADERS, ADMIN_ID, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER, JOBS_URL, startRun, waitForEnd } from '../../helpers/jobs';
import { MongoRoomMemberRestorer } from '../../../mongo/room-member-restorer';
import { BOB_BEFORE, BOB_PLATFORM, seedBobInPlatform } from '../../helpers/undo';

const UNDO_URL = `${SYNC_URL}/undo`;
describe('undo of a named-users sync, on the real servers', () => {
  let host: TestHost;
  const post = (url: string, body: object) => request(host.app).post(url).set(ADMIN_HEADERS).send(body);
  const bob = async () => (await host.models.users.findById('u-bob').lean())!;
  const platformCount = async () => (await host.models.rooms.findById('r-platform').lean())!.usersCount;
  /** bob's attributes after the sync that the first case undoes. */
  let afterSync: unknown;

  beforeAll(async () => {
    host = await startTestHost({ settingsCacheTtlMs: 0, jobRunner: FAST_RUNNER });
    await seedBobInPlatform(host.models);
  });
  afterAll(() => host?.close());

  it('plans, reviews and applies the undo: bob gets his values and the same subscription back, audited', async () => {
    const synced = await post(SYNC_URL, { usernames: ['bob'] }).set('X-Request-Id', 'req-bob');
    expect(synced.body.users[0].roomsRevoked).toEqual([{ _id: 'r-platform', name: 'platform' }]);
    expect(await platformCount()).toBe(2);
    afterSync = (await bob()).abacAttributes;

    const planned = await post(UNDO_URL, { requestId: 'req-bob' });
    expect(planned.status).toBe(202);
    expect(planned.body.job).toMatchObject({
      kind: 'undo',
      undoes: 'req-bob',
      state: 'queued',
      dryRun: true,
    });
    const plan = await waitForEnd(host.app, planned.body.job._id);
    expect(plan).toMatchObject({
      kind: 'undo',
      undoes: 'req-bob',
      state: 'completed',
      dryRun: true,
      actor: { type: 'user', _id: ADMIN_ID, username: 'root' },
      summary: { requested: 1, updated: 1, stale: 0, roomsRestored: 1, roomsRevoked: 0 },
    });
    // The plan is reviewed like any kept plan, and nothing is written before the apply.
    const changes = await request(host.app).get(`${JOBS_URL}/${plan._id}/changes`).set(ADMIN_HEADERS);
    expect(changes.body.changes).toEqual([
      {
        _id: 'u-bob',
        username: 'bob',
        status: 'updated',
        added: [{ key: 'department', values: ['eng-platform'] }],
        removed: [],
        roomsRevoked: [],
        roomsRestored: [{ _id: 'r-platform', name: 'platform' }],
      },
    ]);
    expect(await host.models.subscriptions.countDocuments({ _id: 's-bob-platform' })).toBe(0);
    const summary = await request(host.app).get(`${JOBS_URL}/${plan._id}/summary`).set(ADMIN_HEADERS);
    expect(summary.status).toBe(200);
    expect(summary.body.summary).toEqual({
      users: 1,
      stale: 0,
      attributes: [{ key: 'department', value: 'eng-platform', gain: 1, lose: 0 }],
      rooms: [{ _id: 'r-platform', name: 'platform', leave: 0, comeBack: 1 }],
    });

    const applying = await post(`${JOBS_URL}/${plan._id}/apply`, {});
    expect(applying.status).toBe(202);
    const applied = await waitForEnd(host.app, applying.body.job._id);
    expect(applied).toMatchObject({
      state: 'completed',
      summary: { updated: 1, roomsRestored: 1, stale: 0 },
    });

    expect((await bob()).abacAttributes).toEqual(BOB_BEFORE);
    expect((await bob()).__rooms).toEqual(['r-platform']);
    expect(await host.models.subscriptions.collection.findOne({ _id: 's-bob-platform' as never })).toEqual({
      ...BOB_PLATFORM,
      __abacRestored: expect.any(String),
    });
    expect(await platformCount()).toBe(3);
    const added = await host.models.messages.find({ t: 'au' }).lean();
    expect(added.map(({ rid, msg, u }) => ({ rid, msg, u }))).toEqual([
      { rid: 'r-platform', msg: 'bob', u: { _id: ADMIN_ID, username: 'root' } },
    ]);
    const undoEvents = await host.models.serverEvents
      .find({ 'data.value': applying.body.job._id, 'data.key': 'requestId' })
      .lean();
    expect(undoEvents.map(({ t, actor }) => ({ t, actor }))).toEqual(
      expect.arrayContaining([
        { t: 'abac.subject.attribute.changed', actor: { type: 'user', _id: ADMIN_ID, username: 'root' } },
        { t: 'abac.action.performed', actor: { type: 'user', _id: ADMIN_ID, username: 'root' } },
      ]),
    );
    expect(undoEvents).toHaveLength(2);
    for (const event of undoEvents) {
      expect(event.data).toContainEqual({ key: 'undoes', value: 'req-bob' });
      expect(event.data).toContainEqual({ key: 'reviewedJobId', value: plan._id });
    }
    const granted = undoEvents.find(({ t }) => t === 'abac.action.performed')!;
    expect(granted.data).toContainEqual({ key: 'action', value: 'granted-object-access' });
    expect((await bob()).__abacAuditOutbox ?? {}).toEqual({});
  });

  it('undoes the undo (a change set like any other): the restored membership ends again, as a new eviction', async () => {
    const undoApply = (await host.models.syncJobs.find({ kind: 'undo', dryRun: false }).lean())[0]!;
    const planned = await post(UNDO_URL, { jobId: undoApply._id });
    expect(planned.status).toBe(202);
    const plan = await waitForEnd(host.app, planned.body.job._id);
    expect(plan).toMatchObject({ undoes: undoApply._id, summary: { updated: 1, roomsRevoked: 1, stale: 0 } });
    const applying = await post(`${JOBS_URL}/${plan._id}/apply`, {});
    expect(await waitForEnd(host.app, applying.body.job._id)).toMatchObject({
      state: 'completed',
      summary: { updated: 1, roomsRevoked: 1 },
    });
    expect((await bob()).abacAttributes).toEqual(afterSync);
    expect((await bob()).__rooms).toEqual([]);
    expect(await platformCount()).toBe(2);
    expect(await host.models.subscriptions.countDocuments()).toBe(0);
    // A second eviction of the same subscription is a new one: its own audit event and message.
    expect(await host.models.serverEvents.countDocuments({ 'data.value': 'revoked-object-access' })).toBe(2);
    expect(await host.models.messages.countDocuments({ t: 'abac-removed-user-from-room' })).toBe(2);
  });

  it('answers 404 for an unknown id, 400 for a dry run or a body naming both ids, and writes nothing', async () => {
    const before = await host.models.syncJobs.countDocuments();
    const unknown = await post(UNDO_URL, { requestId: 'never-made' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('error-sync-change-set-not-found');
    const dry = await startRun(host.app, { dryRun: true });
    await waitForEnd(host.app, dry._id);
    const undoDry = await post(UNDO_URL, { jobId: dry._id });
    expect(undoDry.status).toBe(400);
    expect(undoDry.body.error).toBe('error-sync-undo-dry-run');
    const noPlan = await request(host.app).get(`${JOBS_URL}/nope/summary`).set(ADMIN_HEADERS);
    expect([noPlan.status, noPlan.body.error]).toEqual([404, 'error-sync-job-not-found']);
    const both = await post(UNDO_URL, { jobId: 'a', requestId: 'b' });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('error-invalid-body-params');
    // The dry run is the only job these refusals leave.
    expect(await host.models.syncJobs.countDocuments()).toBe(before + 1);
  });
});

describe('an undo cut short by faults, on the real servers', () => {
  let host: TestHost;
  let faults: Array<'before' | 'after'> = [];
  const post = (url: string, body: object) => request(host.app).post(url).set(ADMIN_HEADERS).send(body);

  beforeAll(async () => {
    host = await startTestHost({
      settingsCacheTtlMs: 0,
      jobRunner: FAST_RUNNER,
      memberRestorer: {
        restore: async (restorations) => {
          const fault = faults.shift();
          if (fault === 'before') throw new Error('the database went away before the restore');
          const restored = await new MongoRoomMemberRestorer({ ...host.models, clock: host.clock }).restore(
            restorations,
          );
          if (fault === 'after') throw new Error('the process died after the restore');
          return restored;
        },
      },
    });
    await seedBobInPlatform(host.models);
  });
  afterAll(() => host?.close());

  it('is completed by the next apply, each effect once, whatever step the fault cut it at', async () => {
    await post(SYNC_URL, { usernames: ['bob'] }).set('X-Request-Id', 'req-bob');
    const plan = await waitForEnd(host.app, (await post(UNDO_URL, { requestId: 'req-bob' })).body.job._id);
    const apply = async () =>
      waitForEnd(host.app, (await post(`${JOBS_URL}/${plan._id}/apply`, {})).body.job._id);

    faults = ['before'];
    expect((await apply()).state).toBe('failed');
    // The values are back and the restore is begun in bob's outbox; nobody is a member yet.
    expect((await host.models.users.findById('u-bob').lean())!.abacAttributes).toEqual(BOB_BEFORE);
    expect(await host.models.subscriptions.countDocuments()).toBe(0);

    faults = ['after'];
    expect((await apply()).state).toBe('failed');
    expect(await host.models.subscriptions.countDocuments()).toBe(1);

    faults = [];
    expect((await apply()).state).toBe('completed');
    expect((await host.models.rooms.findById('r-platform').lean())!.usersCount).toBe(3);
    expect(await host.models.subscriptions.collection.findOne({})).toEqual({
      ...BOB_PLATFORM,
      __abacRestored: expect.any(String),
    });
    expect(await host.models.messages.countDocuments({ t: 'au' })).toBe(1);
    expect(await host.models.serverEvents.countDocuments({ 'data.value': 'granted-object-access' })).toBe(1);
    const bob = (await host.models.users.findById('u-bob').lean())!;
    expect(bob.__rooms).toEqual(['r-platform']);
    expect(bob.__abacAuditOutbox ?? {}).toEqual({});
  });
});
