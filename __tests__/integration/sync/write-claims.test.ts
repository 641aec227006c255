import request from 'supertest';
import { writeIfUnchanged } from '../../../mongo/conditional-writes';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';

const STORED = [{ key: 'department', values: ['sales'] }];

/** Claims decide who may write a user; their expiry is the database server's time, never a host's. */
describe('write claims and conditional writes', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const attributesOf = async (id: string) => (await host.models.users.findById(id).lean())?.abacAttributes;

  beforeAll(async () => {
    host = await startTestHost();
    await host.models.users.create(
      ['alice', 'bob'].map((username) => ({
        _id: `u-${username}`,
        username,
        active: true,
        ldap: true,
        abacAttributes: STORED,
      })),
    );
  });
  afterAll(() => host?.close());

  it('a host whose clock runs a minute ahead does not take a claim another host holds', async () => {
    const now = Date.now();
    await host.connection.collection('abac_sync_write_claims').insertOne({
      _id: 'u-alice' as never,
      owner: 'another-host',
      claimedAt: new Date(now),
      expiresAt: new Date(now + 30_000),
    });
    host.clock.current = now + 60_000;
    const response = await sync({ usernames: ['alice'] });
    expect(response.body.users).toEqual([
      { _id: 'u-alice', username: 'alice', status: 'failed', error: 'error-write-conflict' },
    ]);
    expect(await attributesOf('u-alice')).toEqual(STORED);
    await host.connection.collection('abac_sync_write_claims').deleteOne({ _id: 'u-alice' as never });
  });

  it('a re-sync that changes nothing reads no claims; a sync asks only about the users it writes', async () => {
    const watched = await startTestHost({ monitorCommands: true });
    try {
      const claimQueries: unknown[] = [];
      watched.connection.getClient().on('commandStarted', (event) => {
        if (event.command[event.commandName] === 'abac_sync_write_claims')
          claimQueries.push(event.command.filter);
      });
      await watched.models.users.create(
        ['alice', 'bob'].map((username) => ({ _id: `u-${username}`, username, active: true, ldap: true })),
      );
      const watchedSync = (body: object) => request(watched.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
      expect((await watchedSync({ usernames: ['alice'] })).body.summary.updated).toBe(1);
      claimQueries.length = 0;

      const resync = await watchedSync({ usernames: ['alice'] });
      expect(resync.body.summary).toMatchObject({ unchanged: 1, updated: 0 });
      expect(claimQueries).toEqual([]);

      const both = await watchedSync({ usernames: ['alice', 'bob'] });
      expect(both.body.summary).toMatchObject({ unchanged: 1, updated: 1 });
      expect(claimQueries).toEqual([{ _id: { $in: ['u-bob'] } }]);
    } finally {
      await watched.close();
    }
  });

  it('sweeps claims left behind by a crashed holder, judged by the server clock, for users never synced again', async () => {
    const claims = host.connection.collection('abac_sync_write_claims');
    const longAgo = Date.now() - 10 * 60_000;
    await claims.insertOne({
      _id: 'u-crashed-holder' as never,
      owner: 'dead-host',
      claimedAt: new Date(longAgo),
      expiresAt: new Date(longAgo + 30_000),
    });
    host.clock.advance(120_000);
    expect((await sync({ usernames: ['bob'] })).status).toBe(200);
    expect(await claims.countDocuments({ _id: 'u-crashed-holder' as never })).toBe(0);
  });

  it('a write conditioned on a value that changed since it was read is not applied and is reported lost', async () => {
    await host.models.users.updateOne(
      { _id: 'u-bob' },
      { $set: { abacAttributes: [{ key: 'department', values: ['changed-by-someone-else'] }] } },
    );
    const outcome = await writeIfUnchanged(
      host.models.users,
      [{ userId: 'u-bob', before: STORED, next: [{ key: 'department', values: ['eng'] }], outbox: {} }],
      new Date(),
    );
    expect(outcome).toEqual({ applied: [], lost: ['u-bob'] });
    expect(await attributesOf('u-bob')).toEqual([{ key: 'department', values: ['changed-by-someone-else'] }]);

    const applied = await writeIfUnchanged(
      host.models.users,
      [
        {
          userId: 'u-bob',
          before: [{ key: 'department', values: ['changed-by-someone-else'] }],
          next: [],
          outbox: {},
        },
      ],
      new Date(),
    );
    expect(applied).toEqual({ applied: ['u-bob'], lost: [] });
    const bob = await host.models.users.findById('u-bob').lean();
    expect(bob && 'abacAttributes' in bob).toBe(false);
  });
});
