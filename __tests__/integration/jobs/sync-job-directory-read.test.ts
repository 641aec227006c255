import { MongoSyncJobStore } from '../../../mongo/mongo-job-store';
import { startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER, startRun, waitForEnd } from '../../helpers/jobs';

const GUID_HEX = Buffer.from('4AQlP4lP0xGaDAMF6CwzAQ==', 'base64').toString('hex');
const JOSE_UID_HEX = Buffer.from('jose').toString('hex');
const ldapUser = (_id: string, username: string, extra: Record<string, unknown> = {}) => ({
  _id,
  username,
  active: true,
  ldap: true,
  ...extra,
});

/**
 * The two ways a directory-wide run reads the directory (one subtree read joined to the users, or batched
 * lookups) decide the same for every kind of user, on the real slapd: found by username, by a stored
 * identifier with and without its attribute's name, not found, ambiguous, an entry shared by two users.
 */
describe.each(['subtree', 'lookups'] as const)('a directory-wide run reading by %s', (directoryRead) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ jobRunner: { ...FAST_RUNNER, planBatchSize: 3, directoryRead } });
    await host.models.users.create([
      ldapUser('u-alice', 'alice'),
      ldapUser('u-carol', 'carol', { abacAttributes: [{ key: 'department', values: ['old'] }] }),
      ldapUser('u-guid', 'renamed-in-chat', { services: { ldap: { id: GUID_HEX } } }),
      ldapUser('u-jose', 'jose'),
      ldapUser('u-jose-2', 'jose-renamed', { services: { ldap: { id: JOSE_UID_HEX, idAttribute: 'uid' } } }),
      ldapUser('u-twin', 'twin'),
      ldapUser('u-ghost', 'ghost', { abacAttributes: [{ key: 'department', values: ['kept'] }] }),
    ]);
  });
  afterAll(() => host?.close());

  it('plans every kind of user as a named-users sync would', async () => {
    const job = await waitForEnd(host.app, (await startRun(host.app, { dryRun: true }))._id);
    expect(job.state).toBe('completed');
    expect(job.summary).toEqual({
      requested: 7,
      matched: 7,
      updated: 3,
      cleared: 0,
      unchanged: 0,
      notFoundInLdap: 1,
      failed: 3,
      roomsRevoked: 0,
      stale: 0,
    });
    const staged = await host.models.stagedChanges.find({ jobId: job._id }).sort({ userId: 1 }).lean();
    expect(staged.map(({ userId, status, next }) => ({ userId, status, next }))).toEqual([
      {
        userId: 'u-alice',
        status: 'updated',
        next: expect.arrayContaining([{ key: 'department', values: ['eng', 'eng-platform'] }]),
      },
      {
        userId: 'u-carol',
        status: 'updated',
        next: expect.arrayContaining([{ key: 'department', values: ['sales'] }]),
      },
      { userId: 'u-guid', status: 'updated', next: [{ key: 'department', values: ['guid-dept'] }] },
    ]);
    expect(await new MongoSyncJobStore(host.models).countStaged(job._id)).toBe(3);
  });

  it('applies them: the found users get the directory values, the others are left as they were', async () => {
    host.clock.advance(1000);
    const job = await waitForEnd(host.app, (await startRun(host.app))._id);
    expect(job.summary).toMatchObject({ updated: 3, notFoundInLdap: 1, failed: 3 });
    const attributes = async (id: string) => (await host.models.users.findById(id).lean())?.abacAttributes;
    expect(await attributes('u-guid')).toEqual([{ key: 'department', values: ['guid-dept'] }]);
    expect(await attributes('u-ghost')).toEqual([{ key: 'department', values: ['kept'] }]);
    expect(await attributes('u-twin')).toBeUndefined();
    expect(await attributes('u-jose')).toBeUndefined();
    expect(await attributes('u-jose-2')).toBeUndefined();
  });
});
