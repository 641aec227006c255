import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, startTestHost, type TestHost } from '../../helpers/host';
import { JOBS_URL } from '../../helpers/jobs';
import { recordingLogger } from '../../helpers/recording-logger';

// What the module answers for paths and methods its routes do not take: JSON in its error shape, with a
// request id, before any work, and nothing logged as an error. Paths outside its own go on to the host.

describe('paths and methods the routes do not take', () => {
  let host: TestHost;
  const { logger, lines } = recordingLogger();

  beforeAll(async () => {
    host = await startTestHost({ logger });
    host.app.get('/api/v1/abac/other', (_req, res) => {
      res.json({ host: true });
    });
  });
  afterAll(() => host?.close());

  it.each([
    ['GET', `${JOBS_URL}/%E0%A4%A`],
    ['GET', `${JOBS_URL}/%ZZ/changes`],
    ['POST', `${JOBS_URL}/%FF/apply`],
  ])(
    'answers %s %s, a broken percent-encoding, 400 error-invalid-path, logged below error',
    async (method, path) => {
      for (const headers of [{}, ADMIN_HEADERS]) {
        const response = await request(host.app)[method === 'GET' ? 'get' : 'post'](path).set(headers);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({
          success: false,
          error: 'error-invalid-path',
          message: 'The request path is not valid percent-encoded text',
        });
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
      expect(lines.filter(({ level }) => level === 'error')).toEqual([]);
    },
  );

  it('answers another method on a route 405 with the methods it takes, in JSON', async () => {
    const put = await request(host.app).put(SYNC_URL).set(ADMIN_HEADERS);
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('POST');
    expect(put.body).toMatchObject({ success: false, error: 'error-method-not-allowed' });
    const remove = await request(host.app).delete(`${JOBS_URL}/job-1`);
    expect(remove.status).toBe(405);
    expect(remove.headers.allow).toBe('GET, HEAD');
    expect(remove.headers['x-request-id']).toBeDefined();
  });

  it('answers an unknown path under its own 404 in JSON, and leaves the host’s paths to the host', async () => {
    const unknown = await request(host.app).get(`${SYNC_URL}/nope`).set(ADMIN_HEADERS);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/json/);
    expect(unknown.body).toMatchObject({ success: false, error: 'error-not-found' });
    const other = await request(host.app).get('/api/v1/abac/other');
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ host: true });
  });
});
