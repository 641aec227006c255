import request from 'supertest';
import { recordingLogger } from '../../helpers/recording-logger';
import { generatedUid, standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const GUID_HEX = Buffer.from('4AQlP4lP0xGaDAMF6CwzAQ==', 'base64').toString('hex');
const ldapUser = (_id: string, username: string, extra: Record<string, unknown> = {}) => ({
  _id,
  username,
  active: true,
  ldap: true,
  ...extra,
});

describe('how entries are searched', () => {
  let host: TestHost;
  const sync = (body: object) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const useSettings = (settings: Record<string, unknown>) =>
    setSettings(host.models, { ...ldapSettings(), ...settings });

  beforeAll(async () => {
    host = await startTestHost({ settingsCacheTtlMs: 0 });
    await host.models.users.create([
      // Imported with the identifier's value but not the attribute's name.
      ldapUser('u-guid', 'renamed-in-chat', { services: { ldap: { id: GUID_HEX } } }),
      ldapUser('u-alice', 'alice'),
      ldapUser('u-twin', 'twin'),
      ...Array.from({ length: 20 }, (_, index) => ldapUser(`g-${index}`, generatedUid(index))),
    ]);
  });
  afterAll(() => host?.close());

  it('finds a user with services.ldap.id but no idAttribute through LDAP_Unique_Identifier_Field', async () => {
    await useSettings({ LDAP_Unique_Identifier_Field: 'ibm-entryUUID, objectGUID' });
    const response = await sync({ ids: ['u-guid'] });
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-guid', status: 'updated' })]);
    expect((await host.models.users.findById('u-guid').lean())?.abacAttributes).toEqual([
      { key: 'department', values: ['guid-dept'] },
    ]);
  });

  it('uses the chat server default list when the setting is not stored', async () => {
    await host.models.settings.deleteOne({ _id: 'LDAP_Unique_Identifier_Field' });
    await host.models.users.updateOne({ _id: 'u-guid' }, { $unset: { abacAttributes: 1 } });
    const response = await sync({ ids: ['u-guid'] });
    expect(response.body.users).toEqual([expect.objectContaining({ _id: 'u-guid', status: 'updated' })]);
  });

  it('sizes its searches to LDAP_Search_Size_Limit instead of failing every time', async () => {
    await useSettings({ LDAP_Search_Size_Limit: 5 });
    const response = await sync({ usernames: Array.from({ length: 20 }, (_, index) => generatedUid(index)) });
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ matched: 20, updated: 20, failed: 0 });
  });

  it('splits a search the size limit cuts short, and reports a user with more entries than the limit as ambiguous', async () => {
    await useSettings({ LDAP_Search_Size_Limit: 2 });
    const response = await sync({ usernames: ['alice', 'twin'] });
    expect(response.status).toBe(200);
    const byId = Object.fromEntries(response.body.users.map((user: { _id: string }) => [user._id, user]));
    expect(byId['u-alice']).toMatchObject({ status: 'updated' });
    expect(byId['u-twin']).toMatchObject({ status: 'failed', error: 'error-ldap-ambiguous-entry' });

    await useSettings({ LDAP_Search_Size_Limit: 1 });
    const alone = await sync({ usernames: ['twin'] });
    expect(alone.status).toBe(200);
    expect(alone.body.users).toEqual([
      expect.objectContaining({ status: 'failed', error: 'error-ldap-ambiguous-entry' }),
    ]);
  });
});

describe('search references (referrals)', () => {
  let slapd: Slapd;
  let host: TestHost;
  const { logger, lines } = recordingLogger();

  beforeAll(async () => {
    const referral = [
      'dn: cn=branch,ou=people,dc=example,dc=org',
      'objectClass: referral',
      'objectClass: extensibleObject',
      'cn: branch',
      'ref: ldap://ldap.branch.example.invalid/ou=people,dc=branch,dc=example',
      '',
    ].join('\n');
    slapd = await Slapd.start({ ldif: [...standardDirectory(), referral] });
    host = await startTestHost({ logger, seedSettings: false });
    await setSettings(host.models, { ...ldapSettings(), LDAP_Host: '127.0.0.1', LDAP_Port: slapd.port });
    await host.models.users.create(ldapUser('u-alice', 'alice'));
  });
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  it('counts and logs the references it does not follow, and syncs what it found', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['alice'] });
    expect(response.status).toBe(200);
    expect(response.body.users).toEqual([expect.objectContaining({ status: 'updated' })]);
    const finished = lines.find((line) => line.message === 'users sync finished');
    expect(finished?.fields).toMatchObject({ ldapReferrals: 1 });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'LDAP search returned referrals, which are not followed',
      }),
    );
  });
});
