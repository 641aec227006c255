import request from 'supertest';
import { snapshotDatabase } from '../../helpers/database';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';

/** A map that maps nothing (a typo, an attribute the bind account cannot read) must not clear everyone. */
describe('a mapping that matches nothing', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const useMap = async (map: Record<string, string>) => {
    await setSettings(host.models, { LDAP_ABAC_AttributeMap: JSON.stringify(map) });
    host.clock.advance(6000);
  };

  beforeAll(async () => {
    host = await startTestHost();
    await host.models.users.create(
      ['alice', 'bob', 'carol'].map((username) => ({
        _id: `u-${username}`,
        username,
        active: true,
        ldap: true,
        abacAttributes: [{ key: 'department', values: ['eng'] }],
      })),
    );
  });
  afterAll(() => host?.close());

  it('refuses with 409 error-abac-mapping-matches-nothing, naming the attributes, and writes nothing', async () => {
    await useMap({ departmentNumbr: 'department', employeeTyp: 'type' });
    const before = await snapshotDatabase(host.connection);
    const response = await sync({ usernames: ['alice', 'bob', 'carol'] });
    expect(response.status).toBe(409);
    expect(response.body).toEqual({
      success: false,
      error: 'error-abac-mapping-matches-nothing',
      message: expect.stringContaining('departmentNumbr, employeeTyp'),
      details: [
        {
          path: 'LDAP_ABAC_AttributeMap',
          message: 'none of the 3 entries found carries departmentNumbr, employeeTyp',
        },
      ],
    });
    expect(await snapshotDatabase(host.connection)).toEqual(before);
  });

  it('refuses a dry run the same way', async () => {
    const response = await sync({ usernames: ['alice', 'bob'], dryRun: true });
    expect(response.status).toBe(409);
  });

  it('still clears a single user whose entry has no mapped value', async () => {
    const response = await sync({ usernames: ['alice'] });
    expect(response.status).toBe(200);
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-alice', status: 'cleared' })]);
  });

  it('clears several users when some entries carry a mapped attribute', async () => {
    await useMap({ departmentNumber: 'department' });
    // dave's entry has no departmentNumber, alice's has one.
    await host.models.users.create({
      _id: 'u-dave',
      username: 'dave',
      active: true,
      ldap: true,
      abacAttributes: [{ key: 'department', values: ['old'] }],
    });
    const response = await sync({ usernames: ['alice', 'dave'] });
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ updated: 1, cleared: 1 });
  });

  it('refuses an OID in the map as invalid (400), since entries name attributes, not OIDs', async () => {
    await useMap({ '2.16.840.1.113730.3.1.2': 'department' });
    const response = await sync({ usernames: ['bob'] });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('error-abac-attribute-map-invalid');
    expect(response.body.message).toContain('2.16.840.1.113730.3.1.2');
  });
});
