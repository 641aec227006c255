import request from 'supertest';
import { ADMIN_HEADERS, SYNC_URL, setSettings, startTestHost, type TestHost } from '../../helpers/host';
import { FAST_RUNNER } from '../../helpers/jobs';
import { SecondsDirectory } from '../../helpers/seconds-directory';
import { within } from '../../helpers/within';

// The changed-entries feed on a directory that keeps change times in whole seconds and no entryCSN
// (389-DS, Active Directory), imitated in process: slapd always keeps entryCSN. Two changes of one entry
// in the watermark's own second look alike; the second must still be applied.

const NOON = '20261206120000Z';
const NOON_AND_A_SECOND = '20261206120001Z';

describe('the changed-entries feed without entryCSN', () => {
  let directory: SecondsDirectory;
  let host: TestHost;

  const department = async () =>
    (await host.models.users.findById('u-alice').lean())?.abacAttributes?.find(
      ({ key }) => key === 'department',
    )?.values;
  const feed = async () => (await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).body.feed;

  beforeAll(async () => {
    directory = await SecondsDirectory.start();
    directory.put('alice', { departmentNumber: ['eng'] }, NOON);
    directory.put('bob', { departmentNumber: ['eng'] }, NOON);
    host = await startTestHost({ seedSettings: false, settingsCacheTtlMs: 0, jobRunner: FAST_RUNNER });
    await setSettings(host.models, {
      ...directory.hostSettings(),
    });
    await host.models.users.create({
      _id: 'u-alice',
      username: 'alice',
      active: true,
      ldap: true,
      abacAttributes: [{ key: 'department', values: ['eng'] }],
    });
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    await within('the feed started', 10_000, async () => (await feed())?.watermark === NOON);
  }, 30_000);
  afterAll(async () => {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await host?.close();
    await directory?.close();
  });

  it('applies a second change of an entry made in the second it already applied a change in', async () => {
    directory.put('alice', { departmentNumber: ['sales'] }, NOON_AND_A_SECOND);
    // Applied, then the watermark moves past it (the user is written first, the watermark after its audit).
    await within('the first change', 10_000, async () => (await department())?.[0] === 'sales');
    await within(
      'the watermark past it',
      10_000,
      async () => (await feed())?.watermark === NOON_AND_A_SECOND,
    );
    // The same second again: nothing but the value tells this change from the one applied.
    directory.put('alice', { departmentNumber: ['support'] }, NOON_AND_A_SECOND);
    await within('the second change', 10_000, async () => (await department())?.[0] === 'support');
    // Synced again while it stands at the watermark, it is not counted again.
    await new Promise((resolve) => setTimeout(resolve, 3 * 2000));
    expect(await feed()).toMatchObject({
      state: 'following',
      changesApplied: 1,
      watermark: NOON_AND_A_SECOND,
    });
  }, 60_000);
});
