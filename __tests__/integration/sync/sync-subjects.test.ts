import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';

const byId = (users: Array<{ _id: string }>) => [...users].sort((a, b) => a._id.localeCompare(b._id));
const JOSE_UID_HEX = Buffer.from('jose').toString('hex');

/** Which users a sync may give directory attributes to (semantics §4). */
describe('which users a sync writes', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const attributesOf = async (id: string) => (await host.models.users.findById(id).lean())?.abacAttributes;

  beforeAll(async () => {
    host = await startTestHost();
    await host.models.users.create([
      // A local account whose username is a directory uid: never given that person's attributes.
      {
        _id: 'u-local',
        username: 'carol',
        active: true,
        abacAttributes: [{ key: 'department', values: ['own'] }],
      },
      { _id: 'u-local-false', username: 'alice', active: true, ldap: false },
      // Two LDAP users resolving to the one entry uid=jose: by username and by the stored identifier.
      { _id: 'u-jose', username: 'jose', active: true, ldap: true },
      {
        _id: 'u-jose-2',
        username: 'jose-renamed',
        active: true,
        ldap: true,
        services: { ldap: { id: JOSE_UID_HEX, idAttribute: 'uid' } },
      },
      { _id: 'u-bob', username: 'bob', active: true, ldap: true },
    ]);
  });
  afterAll(() => host?.close());

  it('reports a user without ldap: true as failed with error-user-not-ldap and writes nothing for them', async () => {
    const response = await sync({ usernames: ['carol', 'alice', 'bob'] });
    expect(response.status).toBe(200);
    expect(byId(response.body.users)).toEqual([
      expect.objectContaining({ _id: 'u-bob', status: 'updated' }),
      { _id: 'u-local', username: 'carol', status: 'failed', error: 'error-user-not-ldap' },
      { _id: 'u-local-false', username: 'alice', status: 'failed', error: 'error-user-not-ldap' },
    ]);
    expect(response.body.summary).toMatchObject({ matched: 3, failed: 2, updated: 1 });
    expect(await attributesOf('u-local')).toEqual([{ key: 'department', values: ['own'] }]);
    expect(await attributesOf('u-local-false')).toBeUndefined();
    expect(await host.models.serverEvents.countDocuments({ 'data.value._id': 'u-local' })).toBe(0);
  });

  it('fails both users when two of them resolve to one directory entry, writing nothing for them', async () => {
    const response = await sync({ ids: ['u-jose', 'u-jose-2'] });
    expect(response.status).toBe(200);
    expect(byId(response.body.users)).toEqual([
      { _id: 'u-jose', username: 'jose', status: 'failed', error: 'error-ldap-entry-shared' },
      { _id: 'u-jose-2', username: 'jose-renamed', status: 'failed', error: 'error-ldap-entry-shared' },
    ]);
    expect(await attributesOf('u-jose')).toBeUndefined();
    expect(await attributesOf('u-jose-2')).toBeUndefined();
  });

  it('syncs each of them alone', async () => {
    const response = await sync({ ids: ['u-jose-2'] });
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-jose-2', status: 'updated' })]);
  });
});
