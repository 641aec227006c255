import request from 'supertest';
import { healthSchema } from '../../../lib/health';
import { SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';

// GET <mount>/abac/users/sync/health for load balancers, on the real slapd and MongoDB-wire server: no
// credentials, nothing but up, down or off per part.

describe('the health route', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ jobRunner: false });
  });
  afterAll(() => host?.close());

  const health = () => request(host.app).get(`${SYNC_URL}/health`);

  it('answers without credentials: MongoDB and the directory up, no runner here, the feed off', async () => {
    const response = await health();
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toEqual({
      success: true,
      health: { status: 'up', mongo: 'up', ldap: 'up', runner: 'off', feed: 'off' },
    });
    expect(healthSchema.strict().safeParse(response.body.health).success).toBe(true);
  });

  it('says the directory is down when it cannot be reached, and off when LDAP is switched off', async () => {
    await setSettings(host.models, { LDAP_Port: 1 });
    host.clock.advance(10_000);
    expect((await health()).body.health).toMatchObject({ status: 'up', ldap: 'down' });
    await setSettings(host.models, { LDAP_Enable: false });
    host.clock.advance(10_000);
    const off = await health();
    expect(off.status).toBe(200);
    expect(off.body.health).toMatchObject({ status: 'up', ldap: 'off' });
  });
});
