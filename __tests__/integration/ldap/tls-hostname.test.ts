import request from 'supertest';
import { recordingLogger } from '../../helpers/recording-logger';
import { standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import { snapshotDatabase } from '../../helpers/database';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

describe('a certificate issued for another host', () => {
  let slapd: Slapd;
  let host: TestHost;
  const { logger, lines } = recordingLogger();

  beforeAll(async () => {
    // Signed by the CA the module trusts, but for ldap.example.invalid only, not for 127.0.0.1.
    slapd = await Slapd.start({ ldif: standardDirectory(), certificateNames: ['DNS:ldap.example.invalid'] });
    host = await startTestHost({ logger, settingsCacheTtlMs: 0, seedSettings: false });
    await host.models.users.create({ _id: 'u-alice', username: 'alice', active: true, ldap: true });
  });
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  // The same CA over the same transports succeeds when the certificate names 127.0.0.1 (sync-faults.test.ts),
  // so the name check alone makes the difference here.
  it.each([
    ['StartTLS', () => ({ LDAP_Encryption: 'tls', LDAP_Port: slapd.port })],
    ['ldaps', () => ({ LDAP_Encryption: 'ssl', LDAP_Port: slapd.ldapsPort })],
  ])(
    'is refused over %s: 503, a warning naming the mismatch, no plain-text fallback',
    async (_, transport) => {
      await setSettings(host.models, {
        ...ldapSettings(),
        LDAP_Host: '127.0.0.1',
        LDAP_CA_Cert: slapd.certificates.caCertPem,
        ...transport(),
      });
      lines.length = 0;
      const before = await snapshotDatabase(host.connection);
      const response = await request(host.app)
        .post(SYNC_URL)
        .set(ADMIN_HEADERS)
        .send({ usernames: ['alice'] });

      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ success: false, error: 'error-ldap-unavailable' });
      expect(await snapshotDatabase(host.connection)).toBe(before);
      const warnings = lines.filter((line) => line.level === 'warn');
      // The server's reason is logged (the failed host, then the request's answer with its id), and the
      // caller gets only the generic message.
      expect(warnings).toEqual([
        expect.objectContaining({
          fields: expect.objectContaining({ reason: expect.stringMatching(/altnames/i) }),
        }),
        expect.objectContaining({
          message: 'LDAP directory unavailable',
          fields: expect.objectContaining({ requestId: expect.any(String) }),
        }),
      ]);
      expect(JSON.stringify(response.body)).not.toMatch(/altnames|127\.0\.0\.1|ldaps?:/);
      expect(JSON.stringify(lines)).not.toContain(String(ldapSettings().LDAP_Authentication_Password));
    },
  );
});
