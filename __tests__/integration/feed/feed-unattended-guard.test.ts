import request from 'supertest';
import {
  generatePeopleLdif,
  generatedDepartment,
  generatedUid,
  readFixture,
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
import { FAST_RUNNER, JOBS_URL } from '../../helpers/jobs';
import type { RoomMemberRemover } from '../../../lib/sync/room-member-remover';
import { MongoRoomMemberRemover } from '../../../mongo/room-member-remover';
import { within } from '../../helpers/within';
import { changeAsAdmin, type EntryChange } from '../../helpers/ldap-admin';

// The changed-entries feed's people-reached guard on the real slapd and MongoDB-wire server: 30 people, all
// in one group that grants a room. The guard's defaults: more than 10% of the LDAP users and more than 20
// people losing a value in the window (60 minutes) is too much.

const BASE = 'dc=example,dc=org';
const ALL_STAFF = `cn=all-staff,ou=groups,${BASE}`;
const PEOPLE = 30;
const userId = (index: number) => `u-${index}`;
const personDn = (index: number) => `uid=${generatedUid(index)},ou=people,${BASE}`;

/** The generated people, every one a member of all-staff (memberOf precomputed, as slapadd needs). */
function directory(): string[] {
  const people = generatePeopleLdif({ count: PEOPLE }).replace(
    /title: Member of staff\n/g,
    `title: Member of staff\nmemberOf: ${ALL_STAFF}\n`,
  );
  const group =
    `dn: ${ALL_STAFF}\nobjectClass: groupOfNames\ncn: all-staff\n` +
    Array.from({ length: PEOPLE }, (_, index) => `member: ${personDn(index)}\n`).join('');
  return [readFixture('base.ldif'), people, group];
}

describe('the changed-entries feed’s people-reached guard', () => {
  let slapd: Slapd;
  let host: TestHost;
  let remover: RoomMemberRemover | undefined;
  /** Called after each call of the room member remover (a hook into the middle of a poll). */
  let afterRemoval: (() => Promise<void>) | undefined;
  const hookedRemover: RoomMemberRemover = {
    remove: async (removals) => {
      const removed = await remover!.remove(removals);
      await afterRemoval?.();
      return removed;
    },
  };
  /** Each person's departmentNumber in the directory now, as the cases leave it. */
  const departments = Array.from({ length: PEOPLE }, (_, index) => generatedDepartment(index));

  const feed = async () =>
    (await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).body.feed as {
      state: string;
      blockedJobId?: string;
      changesApplied: number;
      error?: { code: string };
    };
  const change = (changes: EntryChange[]) => changeAsAdmin(slapd.info(), changes);
  const members = () => host.models.subscriptions.countDocuments({ rid: 'r-all-staff' });
  const department = async (index: number) =>
    (await host.models.users.findById(userId(index)).lean())?.abacAttributes?.find(
      ({ key }) => key === 'department',
    )?.values;

  /** Every person in step with the directory and in the all-staff room; the guard's window empty. */
  async function seed() {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await within('the feed off', 10_000, async () => (await feed()).state === 'off');
    // A poll under way when the setting changed ends within one interval (2 s): it may still settle its
    // entry in the guard's window, which is cleared below.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await host.models.users.deleteMany({ ldap: true });
    await host.models.subscriptions.deleteMany({});
    await host.models.feedState.deleteMany({});
    await host.models.revocationEntries.deleteMany({});
    await host.models.rooms.deleteMany({});
    await host.models.evictionRecords.deleteMany({});
    await host.models.rooms.create({
      _id: 'r-all-staff',
      t: 'p',
      name: 'all-staff',
      usersCount: PEOPLE,
      abacAttributes: [{ key: 'groups', values: [ALL_STAFF] }],
    });
    await host.models.users.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: true,
        ldap: true,
        abacAttributes: [
          { key: 'department', values: [departments[index]!] },
          { key: 'groups', values: [ALL_STAFF] },
        ],
        __rooms: ['r-all-staff'],
      })),
    );
    await host.models.subscriptions.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: `s-${index}`,
        rid: 'r-all-staff',
        u: { _id: userId(index), username: generatedUid(index) },
      })),
    );
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    await within('the feed following', 10_000, async () => (await feed()).state === 'following');
  }

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: directory() });
    host = await startTestHost({
      seedSettings: false,
      settingsCacheTtlMs: 0,
      // Small batches, so a poll of 20 changes is two batches.
      jobRunner: { ...FAST_RUNNER, feedBatchSize: 10 },
      memberRemover: hookedRemover,
    });
    remover = new MongoRoomMemberRemover({ ...host.models, clock: host.clock });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department', memberOf: 'groups' }),
    });
  }, 30_000);
  afterAll(async () => {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await host?.close();
    await slapd?.stop();
  });

  it('blocks one group change that would take a value from all 30 members: nobody leaves the room', async () => {
    await seed();
    const events = await host.models.serverEvents.countDocuments();
    // The group emptied: one changed entry, reaching every member.
    await change([
      { dn: ALL_STAFF, operation: 'replace', type: 'member', values: [`cn=nobody,ou=groups,${BASE}`] },
    ]);
    await within('the feed blocked', 15_000, async () => (await feed()).state === 'blocked');
    expect(await members()).toBe(PEOPLE);
    expect(await host.models.serverEvents.countDocuments()).toBe(events);
    const blocked = await request(host.app)
      .get(`${JOBS_URL}/${(await feed()).blockedJobId}`)
      .set(ADMIN_HEADERS);
    expect(blocked.body.job).toMatchObject({
      trigger: 'feed',
      state: 'blocked',
      guard: { revokedUsers: PEOPLE, evictions: PEOPLE, usersInRun: PEOPLE, recentRevokedUsers: 0 },
    });
    // Put back for the next cases (the feed is reseeded and starts after this change).
    await change([
      {
        dn: ALL_STAFF,
        operation: 'replace',
        type: 'member',
        values: Array.from({ length: PEOPLE }, (_, index) => personDn(index)),
      },
    ]);
  }, 60_000);

  it('blocks a trickle: 8 people a poll pass, the third 8 within the hour are held for review', async () => {
    await seed();
    const move = async (first: number) => {
      for (let index = first; index < first + 8; index += 1) departments[index] = 'moved';
      await change(
        Array.from({ length: 8 }, (_, offset) => ({
          dn: personDn(first + offset),
          operation: 'replace' as const,
          type: 'departmentNumber',
          values: ['moved'],
        })),
      );
    };
    await move(0);
    await within('the first 8 applied', 15_000, async () => (await department(7))?.[0] === 'moved');
    await move(8);
    await within('the next 8 applied', 15_000, async () => (await department(15))?.[0] === 'moved');
    await move(16);
    await within('the feed blocked', 15_000, async () => (await feed()).state === 'blocked');
    expect(await department(16)).toEqual([generatedDepartment(16)]);
    const blocked = await request(host.app)
      .get(`${JOBS_URL}/${(await feed()).blockedJobId}`)
      .set(ADMIN_HEADERS);
    expect(blocked.body.job.guard).toMatchObject({
      revokedUsers: 8,
      recentRevokedUsers: 16,
      windowMinutes: 60,
    });
  }, 60_000);

  it('applies two people leaving (every mapped value gone) instead of failing every poll', async () => {
    await seed();
    await change([
      ...[28, 29].map((index) => ({
        dn: personDn(index),
        operation: 'delete' as const,
        type: 'departmentNumber',
        values: [],
      })),
      { dn: ALL_STAFF, operation: 'delete', type: 'member', values: [personDn(28), personDn(29)] },
    ]);
    await within('both cleared', 15_000, async () => {
      const left = await host.models.users.find({ _id: { $in: [userId(28), userId(29)] } }).lean();
      return left.every((user) => user.abacAttributes === undefined && (user.__rooms ?? []).length === 0);
    });
    expect(await members()).toBe(PEOPLE - 2);
    await within('the feed following', 10_000, async () => (await feed()).state === 'following');
    expect((await feed()).error).toBeUndefined();
  }, 60_000);

  it('stops between two batches of a poll once ABAC_Enabled is switched off, says so, and goes on once on', async () => {
    await seed();
    // The first 20 people are each in a room their department grants.
    for (let index = 0; index < 20; index += 1) {
      await host.models.rooms.create({
        _id: `r-dept-${index}`,
        t: 'p',
        name: `dept-${index}`,
        usersCount: 1,
        abacAttributes: [{ key: 'department', values: [departments[index]!] }],
      });
      await host.models.subscriptions.create({
        _id: `s-dept-${index}`,
        rid: `r-dept-${index}`,
        u: { _id: userId(index), username: generatedUid(index) },
      });
      await host.models.users.updateOne({ _id: userId(index) }, { $push: { __rooms: `r-dept-${index}` } });
    }
    afterRemoval = async () => {
      afterRemoval = undefined;
      await setSettings(host.models, { ABAC_Enabled: false });
    };
    try {
      for (let index = 0; index < 20; index += 1) departments[index] = 'relocated';
      await change(
        Array.from({ length: 20 }, (_, index) => ({
          dn: personDn(index),
          operation: 'replace' as const,
          type: 'departmentNumber',
          values: ['relocated'],
        })),
      );
      await within(
        'the feed stopped',
        15_000,
        async () => (await feed()).error?.code === 'error-abac-not-enabled',
      );
      const moved = () => host.models.users.countDocuments({ 'abacAttributes.values': 'relocated' });
      // The first batch applied, the second not: it is read again once ABAC is on.
      expect(await moved()).toBe(10);
      expect((await feed()).changesApplied).toBe(10);
      expect(await host.models.subscriptions.countDocuments({ _id: /^s-dept-/ })).toBe(10);
    } finally {
      await setSettings(host.models, { ABAC_Enabled: true });
    }
    await within('the rest applied', 15_000, async () => (await feed()).changesApplied === 20);
    expect(await host.models.subscriptions.countDocuments({ _id: /^s-dept-/ })).toBe(0);
  }, 60_000);
});
