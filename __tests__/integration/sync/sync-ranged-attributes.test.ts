import request from 'supertest';
import { RANGED_BASE_DN, RangedDirectory } from '../../helpers/ranged-directory';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const GROUPS = Array.from(
  { length: 2500 },
  (_, index) => `cn=g${String(index).padStart(4, '0')},ou=groups,${RANGED_BASE_DN}`,
);

/** Active Directory returns a member of many groups in ranges: every range must be read, or values are lost. */
describe('Active Directory ranged attributes', () => {
  let directory: RangedDirectory;
  let host: TestHost;

  beforeAll(async () => {
    directory = await RangedDirectory.start('ranged', GROUPS);
    host = await startTestHost({ seedSettings: false });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: directory.port,
      LDAP_Authentication: false,
      LDAP_BaseDN: RANGED_BASE_DN,
      LDAP_User_Search_Filter: '(objectClass=person)',
      LDAP_ABAC_AttributeMap: JSON.stringify({ memberOf: 'groups' }),
    });
    // Stored with every group, and in a room that requires the very last one.
    await host.models.users.create({
      _id: 'u-ranged',
      username: 'ranged',
      active: true,
      ldap: true,
      abacAttributes: [{ key: 'groups', values: GROUPS }],
      __rooms: ['r-last'],
    });
    await host.models.rooms.create({
      _id: 'r-last',
      t: 'p',
      name: 'last',
      usersCount: 1,
      abacAttributes: [{ key: 'groups', values: [GROUPS[GROUPS.length - 1]!] }],
    });
    await host.models.subscriptions.create({
      _id: 's-ranged',
      rid: 'r-last',
      u: { _id: 'u-ranged', username: 'ranged' },
    });
  });
  afterAll(async () => {
    await host?.close();
    await directory?.close();
  });

  it('follows the ranges to the end: every group is kept and nobody is evicted', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['ranged'] });
    expect(response.status).toBe(200);
    expect(response.body.users).toEqual([{ _id: 'u-ranged', username: 'ranged', status: 'unchanged' }]);
    expect(await host.models.subscriptions.countDocuments({ rid: 'r-last' })).toBe(1);
    const stored = await host.models.users.findById('u-ranged').lean();
    expect(stored?.abacAttributes?.[0]?.values).toHaveLength(2500);
  });
});
