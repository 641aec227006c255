import request from 'supertest';
import { testServers } from '../../../harness/test-servers';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER } from '../../helpers/jobs';
import { within } from '../../helpers/within';

const ENGINEERING = `cn=engineering,ou=groups,${testServers().ldap.baseDN}`;
const BOB_BEFORE = [
  { key: 'department', values: ['eng', 'eng-platform'] },
  { key: 'employeeType', values: ['contractor'] },
  { key: 'groups', values: [ENGINEERING] },
];
/** bob's subscription to platform as the chat server keeps it: read state, roles, preferences. */
const BOB_PLATFORM = {
  _id: 's-bob-platform',
  rid: 'r-platform',
  u: { _id: 'u-bob', username: 'bob' },
  t: 'p',
  name: 'platform',
  ts: new Date('2026-01-05T09:00:00Z'),
  ls: new Date('2026-12-01T17:30:00Z'),
  unread: 4,
  alert: true,
  roles: ['moderator'],
  disableNotifications: false,
};

describe('the undo journal, on the real servers', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ settingsCacheTtlMs: 0, jobRunner: FAST_RUNNER });
    await host.models.users.create({
      _id: 'u-bob',
      username: 'bob',
      active: true,
      ldap: true,
      roles: ['user'],
      emails: [{ address: 'bob@example.org', verified: true }],
      abacAttributes: BOB_BEFORE,
      __rooms: ['r-eng', 'r-platform'],
    });
    await host.models.rooms.create([
      {
        _id: 'r-eng',
        t: 'p',
        name: 'eng',
        usersCount: 5,
        abacAttributes: [{ key: 'department', values: ['eng'] }],
      },
      {
        _id: 'r-platform',
        t: 'p',
        name: 'platform',
        usersCount: 3,
        abacAttributes: [{ key: 'department', values: ['eng-platform'] }],
      },
    ]);
    await host.models.subscriptions.collection.insertMany([
      BOB_PLATFORM as never,
      { _id: 's-bob-eng', rid: 'r-eng', u: { _id: 'u-bob', username: 'bob' } } as never,
    ]);
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
