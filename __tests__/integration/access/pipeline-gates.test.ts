import request from 'supertest';
import { generateLicenseKeys } from '../../../lib/access/license';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  licenseKeys,
  makeLicense,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const notAllowed = {
  success: false,
  error: 'error-action-not-allowed',
  message: 'This is an enterprise feature',
};
const validBody = { usernames: ['nobody-at-all'] };

function post(host: TestHost, body: object | string = validBody) {
  return request(host.app)
    .post(SYNC_URL)
    .set(ADMIN_HEADERS)
    .set('Content-Type', 'application/json')
    .send(body);
}

describe('the license gate', () => {
  const cases: [string, () => string][] = [
    ['signed by another key', () => makeLicense({}, generateLicenseKeys().privateKeyPem)],
    ['without the ldap-enterprise module', () => makeLicense({ modules: ['abac'] })],
    ['without the abac module', () => makeLicense({ modules: ['ldap-enterprise'] })],
    ['expired', () => makeLicense({ validUntil: '2026-06-30T00:00:00Z' })],
    ['not yet valid', () => makeLicense({ validFrom: '2027-01-01T00:00:00Z' })],
    ['tampered with', () => makeLicense().replace(/^[^.]{4}/, 'AAAA')],
    ['not a license at all', () => 'garbage'],
  ];

  it.each(cases)(
    'answers 400 error-action-not-allowed for a license %s, even with a bad body',
    async (_, license) => {
      const host = await startTestHost({
        license: { license: license(), publicKey: licenseKeys.publicKeyPem },
      });
      try {
        for (const body of [validBody, '{bad']) {
          const response = await post(host, body);
          expect(response.status).toBe(400);
          expect(response.body).toEqual(notAllowed);
        }
      } finally {
        await host.close();
      }
    },
  );

  it('accepts a license port supplied by the host', async () => {
    const host = await startTestHost({ license: { hasModules: async () => true }, seedSettings: false });
    try {
      const response = await post(host);
      expect(response.body.error).toBe('error-abac-not-enabled');
    } finally {
      await host.close();
    }
  });
});

describe('permissions', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ permissionsCacheTtlMs: 5000 });
  });
  afterAll(() => host?.close());

  it('creates both permissions with the admin role at start', async () => {
    const permissions = await host.models.permissions.find().sort({ _id: 1 }).lean();
    expect(permissions.map(({ _id, roles }) => ({ _id, roles }))).toEqual([
      { _id: 'abac-management', roles: ['admin'] },
      { _id: 'manage-abac-admin-room-attributes', roles: ['admin'] },
    ]);
  });

  async function withAdminRoles(roles: string[], work: () => Promise<void>) {
    await host.models.users.updateOne({ _id: 'admin-user-id' }, { $set: { roles } });
    try {
      await work();
    } finally {
      await host.models.users.updateOne({ _id: 'admin-user-id' }, { $set: { roles: ['admin'] } });
    }
  }

  it('answers 403 when the caller holds only one of the two permissions, before validating the body', async () => {
    await host.models.permissions.create({ _id: 'placeholder', roles: [] });
    await host.models.permissions.updateOne(
      { _id: 'abac-management' },
      { $set: { roles: ['admin', 'user'] } },
    );
    host.clock.advance(5001);
    await withAdminRoles(['user'], async () => {
      for (const body of [validBody, { bad: true }]) {
        const response = await post(host, body);
        expect(response.status).toBe(403);
        expect(response.body).toEqual({
          success: false,
          error: 'error-not-authorized',
          message: 'Missing required ABAC permissions',
        });
      }
    });
  });

  it('does not count a room-scoped role, and takes a grant made in the database into account within the cache bound', async () => {
    await withAdminRoles(['moderator'], async () => {
      await host.models.permissions.updateMany({}, { $addToSet: { roles: 'moderator' } });
      host.clock.advance(5001);
      expect((await post(host)).status).toBe(403);
    });
    await withAdminRoles(['user'], async () => {
      await host.models.permissions.updateOne(
        { _id: 'manage-abac-admin-room-attributes' },
        { $addToSet: { roles: 'user' } },
      );
      expect((await post(host)).status).toBe(403); // still cached
      host.clock.advance(5001);
      const response = await post(host);
      expect(response.status).not.toBe(403);
    });
  });
});

describe('settings and configuration checks', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ settingsCacheTtlMs: 1000 });
  });
  afterAll(() => host?.close());

  async function expectAfterChange(settings: Record<string, unknown>, status: number, error: string) {
    await setSettings(host.models, settings);
    host.clock.advance(1001);
    const response = await post(host);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ success: false, error });
  }

  it('answers in the documented order: body, ABAC_Enabled, LDAP_Enable, attribute map', async () => {
    await setSettings(host.models, { ABAC_Enabled: false, LDAP_Enable: false, LDAP_ABAC_AttributeMap: '{}' });
    host.clock.advance(1001);
    expect((await post(host, { usernames: [] })).body.error).toBe('error-invalid-body-params');
    await expectAfterChange({}, 400, 'error-abac-not-enabled');
    await expectAfterChange({ ABAC_Enabled: true }, 400, 'error-ldap-not-enabled');
    await expectAfterChange({ LDAP_Enable: true }, 400, 'error-abac-attribute-map-invalid');
  });

  it.each([
    ['not JSON', '{departmentNumber'],
    ['an array', '["departmentNumber"]'],
    ['a bad key', '{"departmentNumber": "dept ok?"}'],
    ['a non-string key', '{"departmentNumber": 3}'],
    ['an attribute name that is not LDAP', '{"bad name": "department"}'],
  ])('refuses an attribute map that is %s', async (_, map) => {
    await expectAfterChange(
      { ABAC_Enabled: true, LDAP_Enable: true, LDAP_ABAC_AttributeMap: map },
      400,
      'error-abac-attribute-map-invalid',
    );
  });

  it('refuses unusable LDAP settings with error-ldap-settings-invalid', async () => {
    await expectAfterChange(
      { LDAP_ABAC_AttributeMap: '{"departmentNumber":"department"}', LDAP_User_Search_Filter: '(uid=' },
      400,
      'error-ldap-settings-invalid',
    );
    await setSettings(host.models, { LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)' });
  });

  it('sees a setting changed in the database once the cache bound has passed', async () => {
    await setSettings(host.models, { ABAC_Enabled: false });
    host.clock.advance(1001);
    expect((await post(host)).body.error).toBe('error-abac-not-enabled');
    await setSettings(host.models, { ABAC_Enabled: true });
    expect((await post(host)).body.error).toBe('error-abac-not-enabled');
    host.clock.advance(1001);
    expect((await post(host)).status).toBe(200);
  });
});
