import request from 'supertest';
import { generatePeopleLdif, generatedUid, readFixture } from '../../../harness/fixtures';
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
import type ldap from 'ldapjs';
import { withAdmin } from '../../helpers/ldap-admin';
import { within } from '../../helpers/within';

// The reconciliation of group DNs held in users' attributes, on the real slapd and MongoDB-wire server. A
// deleted or renamed group is no changed entry the feed reads, and slapd's memberof overlay rewrites its
// members' memberOf without touching their entryCSN: only the reconciliation finds them. 30 people, all in
// all-staff; people 0 and 1 also in book-club. Each group grants a room.

const BASE = 'dc=example,dc=org';
const ALL_STAFF = `cn=all-staff,ou=groups,${BASE}`;
const BOOK_CLUB = `cn=book-club,ou=groups,${BASE}`;
const PEOPLE = 30;
const HOUR_MS = 60 * 60 * 1000;
const userId = (index: number) => `u-${index}`;
const personDn = (index: number) => `uid=${generatedUid(index)},ou=people,${BASE}`;
const inBookClub = (index: number) => index < 2;

function directory(): string[] {
  const people = generatePeopleLdif({ count: PEOPLE })
    .split('\n\n')
    .map(
      (entry, index) =>
        `${entry.trimEnd()}\nmemberOf: ${ALL_STAFF}\n` +
        (inBookClub(index) ? `memberOf: ${BOOK_CLUB}\n` : ''),
    )
    .join('\n');
  const group = (dn: string, cn: string, members: number[]) =>
    `dn: ${dn}\nobjectClass: groupOfNames\ncn: ${cn}\n` +
    members.map((index) => `member: ${personDn(index)}\n`).join('');
  const everyone = Array.from({ length: PEOPLE }, (_, index) => index);
  return [
    readFixture('base.ldif'),
    people,
    group(ALL_STAFF, 'all-staff', everyone),
    group(BOOK_CLUB, 'book-club', everyone.filter(inBookClub)),
  ];
}

describe('the reconciliation of held group DNs', () => {
  let slapd: Slapd;
  let host: TestHost;

  const feed = async () =>
    (await request(host.app).get(`${SYNC_URL}/feed`).set(ADMIN_HEADERS)).body.feed as {
      state: string;
      blockedJobId?: string;
      lastReconciledAt?: string;
    };
  const groupsOf = async (index: number) =>
    (await host.models.users.findById(userId(index)).lean())?.abacAttributes?.find(
      ({ key }) => key === 'groups',
    )?.values;
  const members = (roomId: string) => host.models.subscriptions.countDocuments({ rid: roomId });
  const asAdmin = <T>(work: (client: ldap.Client) => Promise<T>) => withAdmin(work, slapd.info());

  const deleteEntry = (dn: string) =>
    asAdmin(
      (client) =>
        new Promise<void>((resolve, reject) =>
          client.del(dn, (error) => (error ? reject(error) : resolve())),
        ),
    );
  const rename = (dn: string, newDn: string) =>
    asAdmin(
      (client) =>
        new Promise<void>((resolve, reject) =>
          client.modifyDN(dn, newDn, (error) => (error ? reject(error) : resolve())),
        ),
    );

  /** Everyone in step with the directory and in the rooms their groups grant; the feed following. */
  async function seed() {
    await host.models.rooms.create([
      {
        _id: 'r-all-staff',
        t: 'p',
        name: 'all-staff',
        usersCount: PEOPLE,
        abacAttributes: [{ key: 'groups', values: [ALL_STAFF] }],
      },
      {
        _id: 'r-book-club',
        t: 'p',
        name: 'book-club',
        usersCount: 2,
        abacAttributes: [{ key: 'groups', values: [BOOK_CLUB] }],
      },
    ]);
    const groups = (index: number) => [ALL_STAFF, ...(inBookClub(index) ? [BOOK_CLUB] : [])];
    const rooms = (index: number) => ['r-all-staff', ...(inBookClub(index) ? ['r-book-club'] : [])];
    await host.models.users.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: true,
        ldap: true,
        abacAttributes: [{ key: 'groups', values: groups(index) }],
        __rooms: rooms(index),
      })),
    );
    await host.models.subscriptions.insertMany(
      Array.from({ length: PEOPLE }, (_, index) =>
        rooms(index).map((rid) => ({
          _id: `s-${rid}-${index}`,
          rid,
          u: { _id: userId(index), username: generatedUid(index) },
        })),
      ).flat(),
    );
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    // The first pass runs as the feed starts, and finds everyone in step.
    await within('the first pass', 15_000, async () => !!(await feed()).lastReconciledAt);
  }

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: directory() });
    host = await startTestHost({ seedSettings: false, settingsCacheTtlMs: 0, jobRunner: FAST_RUNNER });
    await setSettings(host.models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: slapd.port,
      LDAP_ABAC_AttributeMap: JSON.stringify({ memberOf: 'groups' }),
      ABAC_Sync_Change_Feed_Group_Base_DN: `ou=groups,${BASE}`,
    });
    await seed();
  }, 30_000);
  afterAll(async () => {
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    await host?.close();
    await slapd?.stop();
  });

  it('takes the members of a deleted group out of its room at the next pass, and nobody else', async () => {
    expect(await members('r-book-club')).toBe(2);
    await deleteEntry(BOOK_CLUB);
    // The feed reads no change: the group is gone, and its members' entries did not change.
    await new Promise((resolve) => setTimeout(resolve, 3 * 2000));
    expect(await members('r-book-club')).toBe(2);
    const before = (await feed()).lastReconciledAt;
    host.clock.advance(HOUR_MS);
    await within('the next pass', 15_000, async () => (await feed()).lastReconciledAt !== before);
    await within('book-club emptied', 5_000, async () => (await members('r-book-club')) === 0);
    expect(await groupsOf(0)).toEqual([ALL_STAFF]);
    expect(await groupsOf(1)).toEqual([ALL_STAFF]);
    expect(await members('r-all-staff')).toBe(PEOPLE);
    const events = await host.models.serverEvents.find({}).lean();
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.actor).toEqual({ type: 'system', jobId: 'change-feed' });
  }, 60_000);

  it('holds for review the values of all-staff, moved out of the watched groups, taken from everyone', async () => {
    // The memberof overlay gives every member the new DN; the feed watches ou=groups only.
    await rename(ALL_STAFF, `cn=all-staff,ou=services,${BASE}`);
    await new Promise((resolve) => setTimeout(resolve, 3 * 2000));
    expect((await feed()).state).toBe('following');
    const before = (await feed()).lastReconciledAt;
    host.clock.advance(HOUR_MS);
    await within('the feed blocked', 15_000, async () => (await feed()).state === 'blocked');
    expect(await members('r-all-staff')).toBe(PEOPLE);
    expect(await groupsOf(5)).toEqual([ALL_STAFF]);
    const blocked = await request(host.app)
      .get(`${JOBS_URL}/${(await feed()).blockedJobId}`)
      .set(ADMIN_HEADERS);
    expect(blocked.body.job).toMatchObject({
      trigger: 'feed',
      state: 'blocked',
      guard: { revokedUsers: PEOPLE },
    });
    // The pass went on past what it found: its plan waits in the blocked run.
    expect((await feed()).lastReconciledAt).not.toBe(before);
  }, 60_000);
});
