import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER } from '../../helpers/jobs';
import { within } from '../../helpers/within';
import { BOB_BEFORE, BOB_PLATFORM, seedBobInPlatform } from '../../helpers/undo';

describe('the undo journal, on the real servers', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ settingsCacheTtlMs: 0, jobRunner: FAST_RUNNER });
    await seedBobInPlatform(host.models);
    // bob is in eng too, which he still satisfies: it stays.
    await host.models.users.updateOne({ _id: 'u-bob' }, { $push: { __rooms: 'r-eng' } });
    await host.models.rooms.create({
      _id: 'r-eng',
      t: 'p',
      name: 'eng',
      usersCount: 5,
      abacAttributes: [{ key: 'department', values: ['eng'] }],
    });
    await host.models.subscriptions.collection.insertOne({
      _id: 's-bob-eng',
      rid: 'r-eng',
      u: { _id: 'u-bob', username: 'bob' },
    } as never);
  });
  afterAll(() => host?.close());

  it('keeps what a sync changed: the values before and after, and the whole subscription it ended', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .set('X-Request-Id', 'req-bob')
      .send({ usernames: ['bob'] });
    expect(response.status).toBe(200);
    expect(response.body.users[0].roomsRevoked).toEqual([{ _id: 'r-platform', name: 'platform' }]);
    const after = (await host.models.users.findById('u-bob').lean())!.abacAttributes;

    const journal = await host.models.undoJournal.find({ changeSet: 'req-bob' }).sort({ kind: 1 }).lean();
    const events = await host.models.serverEvents.find({}).lean();
    const changed = events.find(({ t }) => t === 'abac.subject.attribute.changed')!;
    const revoked = events.find(({ t }) => t === 'abac.action.performed')!;
    expect(journal).toEqual([
      {
        _id: changed._id,
        at: changed.ts,
        changeSet: 'req-bob',
        userId: 'u-bob',
        username: 'bob',
        kind: 'attributes',
        before: BOB_BEFORE,
        after,
      },
      {
        _id: revoked._id,
        at: revoked.ts,
        changeSet: 'req-bob',
        userId: 'u-bob',
        username: 'bob',
        kind: 'membershipEnded',
        room: { _id: 'r-platform', name: 'platform' },
        subscription: BOB_PLATFORM,
      },
    ]);
    // The audit trail keeps the chat server's shape: the diff only.
    for (const event of events)
      expect(Object.keys(event).sort()).toEqual(['_id', 'actor', 'data', 't', 'ts']);
    expect(await host.models.subscriptions.countDocuments({ _id: 's-bob-platform' })).toBe(0);
    expect((await host.models.users.findById('u-bob').lean())!.__abacAuditOutbox ?? {}).toEqual({});
  });

  it('forgets it after ABAC_Sync_Undo_Retention_Days, without TTL indexes', async () => {
    await setSettings(host.models, { ABAC_Sync_Undo_Retention_Days: 2 });
    host.clock.advance(86_400_000);
    // A day on, well within the retention: the housekeeping passes keep it.
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST_RUNNER.maintainEveryMs));
    expect(await host.models.undoJournal.countDocuments({ changeSet: 'req-bob' })).toBe(2);
    host.clock.advance(86_400_000 + 1000);
    await within(
      'the journal swept',
      10_000,
      async () => (await host.models.undoJournal.countDocuments()) === 0,
    );
    // Its audit events stay: undo then says the change set is too old, not unknown.
    const undo = await request(host.app)
      .post(`${SYNC_URL}/undo`)
      .set(ADMIN_HEADERS)
      .send({ requestId: 'req-bob' });
    expect([undo.status, undo.body.error]).toEqual([409, 'error-sync-undo-expired']);
    expect(await host.models.syncJobs.countDocuments()).toBe(0);
  });
});
