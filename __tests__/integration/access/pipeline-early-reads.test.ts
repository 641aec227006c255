import request from 'supertest';
import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { ADMIN_HEADERS, ADMIN_ID, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';

// A caller the gate let in within the last minutes has the sync's reads begun while the gate checks them
// again, on the real slapd and MongoDB-wire server: the named users are looked for before the login read
// answers. Nothing is written or answered before the gate passes; a refused caller's reads are dropped.

describe('reads begun beside the gate for a caller admitted recently', () => {
  let host: TestHost;
  /** The commands on the users collection, in the order the driver saw them start and succeed. */
  const seen: string[] = [];

  beforeAll(async () => {
    host = await startTestHost({ monitorCommands: true });
    const client = host.connection.getClient();
    const label = (event: CommandStartedEvent) => {
      const filter = (event.command.filter ?? {}) as Record<string, unknown>;
      if (filter._id === ADMIN_ID) return 'login';
      return 'username' in filter ? 'named users' : undefined;
    };
    const started = new Map<number, string>();
    client.on('commandStarted', (event: CommandStartedEvent) => {
      const name = event.command[event.commandName] === 'users' ? label(event) : undefined;
      if (!name) return;
      started.set(event.requestId, name);
      seen.push(`${name} started`);
    });
    client.on('commandSucceeded', (event: CommandSucceededEvent) => {
      const name = started.get(event.requestId);
      if (name) seen.push(`${name} answered`);
    });
    await host.models.users.create({ _id: 'u-alice', username: 'alice', active: true, ldap: true });
  });
  afterAll(() => host?.close());

  const sync = () =>
    request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['alice'] });

  it('looks for the named users before the login read answers, once the caller was admitted', async () => {
    const first = await sync();
    expect(first.status).toBe(200);
    expect(first.body.summary).toMatchObject({ updated: 1 });
    // Not admitted before: the users are looked for only once the gate has passed.
    expect(seen.indexOf('named users started')).toBeGreaterThan(seen.indexOf('login answered'));

    seen.length = 0;
    const again = await sync();
    expect(again.status).toBe(200);
    expect(again.body.summary).toMatchObject({ unchanged: 1 });
    expect(seen.indexOf('named users started')).toBeGreaterThanOrEqual(0);
    expect(seen.indexOf('named users started')).toBeLessThan(seen.indexOf('login answered'));
  });

  it('begins nothing for other credentials, and writes nothing for an admitted caller the gate now refuses', async () => {
    seen.length = 0;
    const wrong = await request(host.app)
      .post(SYNC_URL)
      .set({ ...ADMIN_HEADERS, 'X-Auth-Token': 'not-the-token' })
      .send({ usernames: ['alice'] });
    expect(wrong.status).toBe(401);
    expect(seen).not.toContain('named users started');

    await host.models.users.updateOne({ _id: 'u-alice' }, { $unset: { abacAttributes: 1 } });
    await host.models.users.updateOne({ _id: ADMIN_ID }, { $set: { roles: ['user'] } });
    try {
      const refused = await sync();
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('error-not-authorized');
    } finally {
      await host.models.users.updateOne({ _id: ADMIN_ID }, { $set: { roles: ['admin'] } });
    }
    expect((await host.models.users.findById('u-alice').lean())?.abacAttributes).toBeUndefined();
    expect(await host.models.serverEvents.countDocuments({})).toBe(1);
  });
});
