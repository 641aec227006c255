import request from 'supertest';
import {
  generatedDepartment,
  generatedUid,
  generatePeopleLdif,
  standardDirectory,
} from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';
import { JOBS_URL, startRun, waitForEnd } from '../../helpers/jobs';

const PEOPLE = 5000;
const MEMBERS = 50;
const userId = (index: number) => `id-${String(index).padStart(4, '0')}`;
const RETIRED = 'retired-dept';
const heldBefore = (index: number) => [{ key: 'department', values: [generatedDepartment(index), RETIRED] }];

/**
 * Undo of a directory-wide run over 5,000 people on the real slapd and MongoDB-wire server: the run takes a
 * value from everyone and ends 50 memberships; one user is changed in between; the undo gives everyone
 * else their value and membership back, and leaves that user alone.
 */
describe('undo of a 5,000-user run, on the real servers', () => {
  let slapd: Slapd;
  let host: TestHost;

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: PEOPLE })] });
    host = await startTestHost({
      seedSettings: false,
      settingsCacheTtlMs: 0,
      jobRunner: { processEveryMs: 100, lockLifetimeMs: 3000, maintainEveryMs: 200 },
    });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
      // The run is approved in advance: it takes a value from everyone.
      ABAC_Sync_Guard_Max_Revoked_Percent: 100,
    });
    await host.models.users.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: true,
        ldap: true,
        abacAttributes: heldBefore(index),
        __rooms: index < MEMBERS ? ['r-retired'] : [],
      })),
    );
    await host.models.rooms.create({
      _id: 'r-retired',
      t: 'p',
      name: 'retired',
      usersCount: MEMBERS + 2,
      abacAttributes: [{ key: 'department', values: [RETIRED] }],
    });
    await host.models.subscriptions.collection.insertMany(
      Array.from({ length: MEMBERS }, (_, index) => ({
        _id: `s-${index}`,
        rid: 'r-retired',
        u: { _id: userId(index), username: generatedUid(index) },
        ls: new Date(Date.UTC(2026, 10, 1, 0, index)),
        roles: index === 0 ? ['owner'] : [],
      })) as never[],
    );
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    await slapd?.stop();
  });

  it('gives 4,999 people their value and the 49 memberships back, and leaves the one changed since alone', async () => {
    const subscriptions = () => host.models.subscriptions.collection.find().sort({ _id: 1 }).toArray();
    const subscriptionsBefore = await subscriptions();
    const run = await waitForEnd(host.app, (await startRun(host.app))._id, 120_000);
    expect(run).toMatchObject({ state: 'completed', summary: { updated: PEOPLE, roomsRevoked: MEMBERS } });
    expect(await host.models.subscriptions.countDocuments()).toBe(0);
    expect((await host.models.rooms.findById('r-retired').lean())!.usersCount).toBe(2);

    // In between, an admin gives user 7 (a member until the run) another value by hand.
    await host.models.users.updateOne(
      { _id: userId(7) },
      { abacAttributes: [{ key: 'department', values: [generatedDepartment(7), 'by-hand'] }] },
    );

    const planned = await request(host.app)
      .post(`${SYNC_URL}/undo`)
      .set(ADMIN_HEADERS)
      .send({ jobId: run._id });
    expect(planned.status).toBe(202);
    expect(await waitForEnd(host.app, planned.body.job._id, 120_000)).toMatchObject({
      state: 'completed',
      kind: 'undo',
      undoes: run._id,
      summary: { requested: PEOPLE, updated: PEOPLE - 1, stale: 1, roomsRestored: MEMBERS - 1 },
    });
    const stale = await request(host.app)
      .get(`${JOBS_URL}/${planned.body.job._id}/changes?stale=true`)
      .set(ADMIN_HEADERS);
    expect(stale.body.changes.map(({ _id }: { _id: string }) => _id)).toEqual([userId(7)]);

    const applying = await request(host.app)
      .post(`${JOBS_URL}/${planned.body.job._id}/apply`)
      .set(ADMIN_HEADERS)
      .send({});
    const applied = await waitForEnd(host.app, applying.body.job._id, 120_000);
    expect(applied).toMatchObject({
      state: 'completed',
      summary: { updated: PEOPLE - 1, stale: 1, roomsRestored: MEMBERS - 1 },
    });

    const users = await host.models.users.find({ ldap: true }).sort({ _id: 1 }).lean();
    for (const [index, user] of users.entries()) {
      if (index === 7) expect(user.abacAttributes![0]!.values).toContain('by-hand');
      else expect(user.abacAttributes).toEqual(heldBefore(index));
      expect(user.__rooms).toEqual(index < MEMBERS && index !== 7 ? ['r-retired'] : []);
    }
    const subscriptionsAfter = await subscriptions();
    expect(subscriptionsAfter.map(({ __abacRestored: _restore, ...rest }) => rest)).toEqual(
      subscriptionsBefore.filter(({ _id }) => (_id as unknown as string) !== 's-7'),
    );
    expect((await host.models.rooms.findById('r-retired').lean())!.usersCount).toBe(MEMBERS + 1);
    expect(await host.models.messages.countDocuments({ t: 'au' })).toBe(MEMBERS - 1);
    expect(
      await host.models.serverEvents.countDocuments({ 'data.key': 'undoes', 'data.value': run._id }),
    ).toBe(PEOPLE - 1 + MEMBERS - 1);
  }, 240_000);
});
