import request from 'supertest';
import { createDefaultLogger } from '../../../lib/logger';
import { SYNC_PHASES } from '../../../lib/sync/phase-timer';
import {
  ADMIN_HEADERS,
  ADMIN_TOKEN,
  SYNC_URL,
  ldapSettings,
  setSettings,
  seedAliceInSalesRoom,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

/** Captures what the default (pino) logger writes, one parsed JSON object per line. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = createDefaultLogger({
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { logger, lines, text: () => raw.join('') };
}

describe('logs', () => {
  let host: TestHost;
  const log = capture();
  const servicePassword = String(ldapSettings().LDAP_Authentication_Password);

  beforeAll(async () => {
    host = await startTestHost({ logger: log.logger, settingsCacheTtlMs: 0 });
    await seedAliceInSalesRoom(host.models);
  });
  afterAll(() => host?.close());

  it('writes one structured line per sync with the request id, counts and per-phase durations', async () => {
    const response = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .set('X-Request-Id', 'req-log-1')
      .send({ usernames: ['alice', 'nobody'] });
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('req-log-1');

    const syncLines = log.lines.filter((line) => line.msg === 'users sync finished');
    expect(syncLines).toHaveLength(1);
    const [line] = syncLines;
    expect(line).toMatchObject({
      level: 30,
      name: 'abac-ldap-sync',
      requestId: 'req-log-1',
      dryRun: false,
      requested: 2,
      matched: 1,
      updated: 1,
      roomsRevoked: 1,
      ldapSearchRoundTrips: 1,
      ldapEntries: 1,
    });
    const durations = line!.durationsMs as Record<string, number>;
    expect(Object.keys(durations).sort()).toEqual([...SYNC_PHASES].sort());
    for (const phase of SYNC_PHASES) expect(typeof durations[phase]).toBe('number');
  });

  it('never writes tokens, passwords or attribute values, also when a fault is logged', async () => {
    await setSettings(host.models, { LDAP_Authentication_Password: 'not-the-password' });
    const refused = await request(host.app)
      .post(SYNC_URL)
      .set(ADMIN_HEADERS)
      .send({ usernames: ['alice'] });
    expect(refused.status).toBe(503);
    await setSettings(host.models, { LDAP_Authentication_Password: servicePassword });
    expect(log.lines.some((line) => line.level === 40)).toBe(true);

    const text = log.text();
    for (const secret of [ADMIN_TOKEN, servicePassword, 'not-the-password', 'eng-platform', '"staff"']) {
      expect(text).not.toContain(secret);
    }
  });

  it('redacts secrets a host passes in its own fields', () => {
    const own = capture();
    own.logger.info(
      { password: 'p1', bind: { password: 'p2' }, auth: { token: 't1' }, kept: 'visible' },
      'x',
    );
    expect(own.text()).not.toMatch(/p1|p2|t1/);
    expect(own.lines[0]).toMatchObject({
      password: '[redacted]',
      bind: { password: '[redacted]' },
      kept: 'visible',
    });
  });
});
