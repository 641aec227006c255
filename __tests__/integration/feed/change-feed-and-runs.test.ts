import request from 'supertest';
import { standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import type { RoomMemberRemover } from '../../../lib/sync/room-member-remover';
import { ATTRIBUTE_CHANGED_EVENT, ACTION_PERFORMED_EVENT } from '../../../lib/sync/audit-events';
import { MongoRoomMemberRemover } from '../../../mongo/room-member-remover';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';
import { FAST_RUNNER, readJob, startRun, waitForEnd } from '../../helpers/jobs';
import { within } from '../../helpers/within';
import { changeAsAdmin } from '../../helpers/ldap-admin';

// A directory-wide run and the changed-entries feed on the same user, on the real slapd and MongoDB-wire
// server. The run writes its users without claims, each write conditioned on the user as read, as a
// request does: while the run is held up evicting bob, the feed's sync of a newer directory value does not
// wait for it. The newer value wins, bob leaves the room once, and each change is audited once.

const BASE = 'dc=example,dc=org';

describe('a directory-wide run and the changed-entries feed on one user', () => {
  let slapd: Slapd;
  let host: TestHost;
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let remover: RoomMemberRemover | undefined;
  /** The built-in remover, held up while `gate` is set (the run then holds its users' claims). */
  const heldRemover: RoomMemberRemover = {
    remove: async (removals) => {
      if (removals.length > 0) await gate;
      return remover!.remove(removals);
    },
  };

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: standardDirectory() });
    host = await startTestHost({
      seedSettings: false,
      settingsCacheTtlMs: 0,
      jobRunner: FAST_RUNNER,
      memberRemover: heldRemover,
    });
    remover = new MongoRoomMemberRemover({ ...host.models, clock: host.clock });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
    });
  }, 30_000);
  afterAll(async () => {
    release?.();
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await host?.close();
    await slapd?.stop();
  });

  const bobsDepartment = async () =>
    (await host.models.users.findById('u-bob').lean())?.abacAttributes?.[0]?.values[0];
  const feed = async () =>
    (await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).body.feed as {
      state: string;
      error?: { code: string };
      changesApplied: number;
    };

  it('lets the feed write a newer value while the run is held up evicting, each change audited once', async () => {
    await host.models.rooms.create({
      _id: 'r-old',
      t: 'p',
      name: 'old',
      usersCount: 1,
      abacAttributes: [{ key: 'department', values: ['old'] }],
    });
    await host.models.users.create({
      _id: 'u-bob',
      username: 'bob',
      active: true,
      ldap: true,
      abacAttributes: [{ key: 'department', values: ['old'] }],
      __rooms: ['r-old'],
    });
    await host.models.subscriptions.create({
      _id: 's-bob',
      rid: 'r-old',
      u: { _id: 'u-bob', username: 'bob' },
    });
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    await within('the feed started', 10_000, async () => (await feed()).state === 'following');

    // The run writes bob's directory value (eng) and is held up evicting him.
    gate = new Promise((resolve) => {
      release = resolve;
    });
    const run = await startRun(host.app);
    await within('the run writing bob', 10_000, async () => (await bobsDepartment()) === 'eng');

    // The directory moves bob on; the feed writes the newer value at once (its own eviction of bob waits
    // behind the same hold).
    await changeAsAdmin(slapd.info(), [
      { dn: `uid=bob,ou=people,${BASE}`, operation: 'replace', type: 'departmentNumber', values: ['sales'] },
    ]);
    await within(
      'the feed writing the newer value while the run is held',
      15_000,
      async () => (await bobsDepartment()) === 'sales',
    );
    expect((await readJob(host.app, run._id)).state).toBe('running');

    release!();
    gate = undefined;
    expect((await waitForEnd(host.app, run._id)).state).toBe('completed');
    await within('the feed following', 10_000, async () => (await feed()).state === 'following');
    expect((await feed()).changesApplied).toBe(1);
    expect(await bobsDepartment()).toBe('sales');

    const changes = await host.models.serverEvents
      .find({ t: ATTRIBUTE_CHANGED_EVENT })
      .sort({ ts: 1 })
      .lean();
    expect(
      changes.map((event) => [
        event.actor,
        (event.data.find(({ key }) => key === 'added')!.value as { values: string[] }[])[0]!.values[0],
      ]),
    ).toEqual([
      [{ type: 'user', _id: ADMIN_ID, username: 'root' }, 'eng'],
      [{ type: 'system', jobId: 'change-feed' }, 'sales'],
    ]);
    expect(await host.models.serverEvents.countDocuments({ t: ACTION_PERFORMED_EVENT })).toBe(1);
    expect(await host.models.subscriptions.countDocuments({ rid: 'r-old' })).toBe(0);
  }, 90_000);
});
