import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Connection } from 'mongoose';
import { createHostApp } from '../../examples/mount';
import { testServers } from '../../harness/test-servers';
import { licenseKeys, makeLicense } from '../helpers/host';
import { REPO_ROOT } from '../helpers/paths';

describe("the README's mounting sample", () => {
  let connection: Connection | undefined;
  let closeHost: (() => Promise<void>) | undefined;
  afterAll(async () => {
    // As the sample says: the module first (its runner stops polling), then the connection.
    await closeHost?.();
    await connection?.dropDatabase();
    await connection?.close();
  });

  it('is the code the README shows, but for the package name', () => {
    const sample = readFileSync(join(REPO_ROOT, 'examples', 'mount.ts'), 'utf8')
      .split('\n')
      .slice(1)
      .join('\n')
      .replace(/from '(?:\.\.\/)+app'/, "from 'abac-ldap-sync'");
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain(sample.trim());
  });

  it('mounts the router at /api/v1 and answers the endpoint', async () => {
    const uri = new URL(testServers().mongo.uri);
    uri.pathname = `/t_mount_example_${process.pid}`;
    const host = await createHostApp(uri.toString(), makeLicense(), licenseKeys.publicKeyPem);
    connection = host.connection;
    closeHost = host.close;
    const response = await request(host.app)
      .post('/api/v1/abac/users/sync')
      .send({ usernames: ['alice'] });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ success: false, error: 'error-unauthorized' });
    expect(await connection.collection('rocketchat_permissions').countDocuments()).toBe(2);
  });
});
