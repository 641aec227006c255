import request from 'supertest';
import { generatePeopleLdif, generatedUid, standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import type { Directory, DirectorySession } from '../../../lib/ldap/directory';
import { LdaptsDirectory } from '../../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../../lib/logger';
import { snapshotDatabase } from '../../helpers/database';
import { seedLegacyRoom } from '../../helpers/legacy-room';
import { withSearch } from '../../helpers/directories';
import { reportFigure } from '../../helpers/figures';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const PEOPLE = 300;
const LDAP_TIMEOUT_MS = 1500;

/**
 * The real adapter, with a hook run once after the next search: the test kills or freezes slapd between the
 * first and second search of one request (300 users are read in two searches of up to 250).
 */
class InterruptibleDirectory implements Directory {
  afterFirstSearch: (() => Promise<void>) | undefined;
  private readonly real = new LdaptsDirectory(silentLogger);

  async open(settings: Parameters<Directory['open']>[0]): Promise<DirectorySession> {
    const session = await this.real.open(settings);
    return withSearch(session, async (search, onEntry) => {
      await session.search(search, onEntry);
      const hook = this.afterFirstSearch;
      if (hook) {
        this.afterFirstSearch = undefined;
        await hook();
      }
    });
  }
}

describe('LDAP faults: 503, Retry-After, and nothing written', () => {
  let slapd: Slapd;
  let host: TestHost;
  const directory = new InterruptibleDirectory();
  const usernames = Array.from({ length: 100 }, (_, index) => generatedUid(index));
  const emails = Array.from({ length: 100 }, (_, index) => `${generatedUid(100 + index)}@example.org`);
  const ids = Array.from({ length: 100 }, (_, index) => `id-${200 + index}`);
  const fullBody = { usernames, emails, ids };

  const sync = (body: object = fullBody) => request(host.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const useSettings = (overrides: Record<string, unknown>) =>
    setSettings(host.models, { ...baseSettings(), ...overrides });
  const baseSettings = () => ({
    ...ldapSettings(),
    LDAP_Host: '127.0.0.1',
    LDAP_Port: slapd.port,
    LDAP_Timeout: LDAP_TIMEOUT_MS,
    LDAP_Connect_Timeout: 1000,
    LDAP_Encryption: 'plain',
    LDAP_CA_Cert: '',
  });

  async function expectUnavailable(response: request.Response, before: string) {
    expect(response.status).toBe(503);
    // A stable code and a generic message: server addresses and diagnostics stay in the logs.
    expect(response.body).toEqual({
      success: false,
      error: 'error-ldap-unavailable',
      message: 'The LDAP directory is unavailable; retry later',
    });
    expect(response.headers['retry-after']).toBe('30');
    expect(await snapshotDatabase(host.connection)).toBe(before);
  }

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: PEOPLE })] });
    host = await startTestHost({ directory, settingsCacheTtlMs: 0, seedSettings: false });
    await useSettings({});
    // Every user holds values the directory no longer has and sits in a room those values grant, so a
    // completed sync would write attributes, evict, post messages and audit: a fault must do none of it.
    await seedLegacyRoom(host.models, PEOPLE, { userId: (index) => `id-${index}`, emails: true });
  });
  afterEach(async () => {
    directory.afterFirstSearch = undefined;
    if (!slapd.running) await slapd.resume();
  });
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  it('answers 503 when slapd is down before the request', async () => {
    await slapd.stopProcess('SIGKILL');
    const before = await snapshotDatabase(host.connection);
    await expectUnavailable(await sync(), before);
  });

  it('answers 503 when slapd is killed between the two searches of one request', async () => {
    const before = await snapshotDatabase(host.connection);
    directory.afterFirstSearch = () => slapd.stopProcess('SIGKILL');
    await expectUnavailable(await sync(), before);
    expect(slapd.running).toBe(false);
  });

  it('answers 503 within LDAP_Timeout when slapd freezes mid-request, and serves again once it thaws', async () => {
    const before = await snapshotDatabase(host.connection);
    directory.afterFirstSearch = () => slapd.freeze();
    const started = Date.now();
    const response = await sync();
    const elapsed = Date.now() - started;
    slapd.thaw();
    await expectUnavailable(response, before);
    expect(elapsed).toBeGreaterThanOrEqual(LDAP_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(LDAP_TIMEOUT_MS + 3000);
    reportFigure('slapd frozen mid-request', `503 after ${elapsed} ms (LDAP_Timeout ${LDAP_TIMEOUT_MS} ms)`);

    const recovered = await sync({ usernames: usernames.slice(0, 3) });
    expect(recovered.status).toBe(200);
    expect(recovered.body.summary).toMatchObject({ updated: 3, roomsRevoked: 3 });
  });

  it('answers 503 when the service account bind is refused', async () => {
    await useSettings({ LDAP_Authentication_Password: 'not-the-password' });
    const before = await snapshotDatabase(host.connection);
    await expectUnavailable(await sync(), before);
    await useSettings({});
  });

  it('answers 503 when the certificate cannot be verified, and never falls back to plain text', async () => {
    for (const encryption of [
      { LDAP_Encryption: 'tls' },
      { LDAP_Encryption: 'ssl', LDAP_Port: slapd.ldapsPort },
    ]) {
      await useSettings(encryption);
      const before = await snapshotDatabase(host.connection);
      await expectUnavailable(await sync(), before);
    }
    await useSettings({});
  });

  it('syncs over StartTLS and over ldaps with the CA from LDAP_CA_Cert', async () => {
    const ca = slapd.certificates.caCertPem;
    await useSettings({ LDAP_Encryption: 'tls', LDAP_CA_Cert: ca });
    const startTls = await sync({ usernames: [generatedUid(10)] });
    expect(startTls.status).toBe(200);
    expect(startTls.body).toMatchObject({ summary: { updated: 1 } });

    await useSettings({ LDAP_Encryption: 'ssl', LDAP_Port: slapd.ldapsPort, LDAP_CA_Cert: ca });
    const ldaps = await sync({ usernames: [generatedUid(11)] });
    expect(ldaps.status).toBe(200);
    expect(ldaps.body.summary).toMatchObject({ updated: 1 });
    await useSettings({});
  });

  it('fails over to the next host in LDAP_Host when the first refuses connections', async () => {
    // Nothing listens on 127.0.0.2 (slapd binds 127.0.0.1 only): the connection is refused at once.
    await useSettings({ LDAP_Host: '127.0.0.2, 127.0.0.1' });
    const response = await sync({ usernames: [generatedUid(12)] });
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ updated: 1 });
    await useSettings({});
  });
});
