import ldap from 'ldapjs';
import mongoose, { type Connection } from 'mongoose';
import { generatePeopleLdif, generatedUid, readFixture } from '../../harness/fixtures';
import { Slapd } from '../../harness/slapd';
import { testServers } from '../../harness/test-servers';
import { REMOVED_FROM_ROOM_MESSAGE } from '../../mongo/room-member-remover';
import { createModels, ensureIndexes, type AbacAttribute, type Models } from '../../models';
import { reportFigure } from '../helpers/figures';
import {
  ADMIN_HEADERS,
  ADMIN_ID,
  testAdmin,
  ldapSettings,
  licenseKeys,
  makeLicense,
  setSettings,
} from '../helpers/host';
import { startHostProcess, type HostProcess } from '../helpers/host-process';
import { bind, modify, rawClient, unbind } from '../helpers/ldap-admin';

const USERS = 10;
const ROOM = 'r-dept-x';
const ROOM_MEMBERS_BEFORE = 50;
/** departmentNumber of every person, version after version; the room requires dept-x. */
const VERSIONS = [['dept-x'], ['dept-y'], ['dept-x', 'dept-z'], ['dept-z'], ['dept-w', 'dept-x']];
const BURST = 20;

const userId = (index: number) => `u-${index}`;

/** A small deterministic generator, so a failing run can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type State = Map<string, Set<string>>;
const toState = (attributes: AbacAttribute[]): State =>
  new Map(attributes.map(({ key, values }) => [key, new Set(values)]));
const same = (left: State, right: State) =>
  JSON.stringify([...left].map(([key, values]) => [key, [...values].sort()]).sort()) ===
  JSON.stringify([...right].map(([key, values]) => [key, [...values].sort()]).sort());

interface Change {
  ts: number;
  added: AbacAttribute[];
  removed: AbacAttribute[];
}

/** Applies a change if it fits the state (removes only what is there, adds only what is not). */
function apply(state: State, change: Change): State | undefined {
  const next: State = new Map([...state].map(([key, values]) => [key, new Set(values)]));
  for (const { key, values } of change.removed) {
    for (const value of values) if (!next.get(key)?.delete(value)) return undefined;
  }
  for (const { key, values } of change.added) {
    const set = next.get(key) ?? new Set<string>();
    for (const value of values) {
      if (set.has(value)) return undefined;
      set.add(value);
    }
    next.set(key, set);
  }
  for (const [key, values] of next) if (values.size === 0) next.delete(key);
  return next;
}

/** Whether the changes, in time order (any order among equal timestamps), lead from `from` to `to`. */
function chains(from: State, changes: Change[], to: State): boolean {
  if (changes.length === 0) return same(from, to);
  const first = Math.min(...changes.map((change) => change.ts));
  return changes.some((change, index) => {
    if (change.ts !== first) return false;
    const next = apply(from, change);
    return (
      next !== undefined &&
      chains(
        next,
        changes.filter((_, other) => other !== index),
        to,
      )
    );
  });
}

describe('two host processes, one database, concurrent overlapping syncs while the directory changes', () => {
  let slapd: Slapd;
  let connection: Connection;
  let models: Models;
  let hosts: HostProcess[] = [];
  const seed = Number(process.env.CONCURRENCY_SEED ?? Date.now() % 2 ** 31);

  async function setDirectoryVersion(version: number) {
    const info = slapd.info();
    const client = rawClient(info.url);
    try {
      await bind(client, info.adminDN, info.adminPassword);
      const values = VERSIONS[version]!;
      await Promise.all(
        Array.from({ length: USERS }, (_, index) =>
          modify(client, `uid=${generatedUid(index)},ou=people,${info.baseDN}`, [
            new ldap.Change({
              operation: 'replace',
              modification: new ldap.Attribute({ type: 'departmentNumber', values }),
            }),
          ]),
        ),
      );
    } finally {
      await unbind(client);
    }
  }

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [readFixture('base.ldif'), generatePeopleLdif({ count: USERS })] });
    const dbName = `t_two_hosts_${process.pid}_${Date.now() % 100000}`;
    connection = await mongoose.createConnection(testServers().mongo.uri, { dbName }).asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users', protected: true });
    await models.users.create([
      testAdmin(Date.now()),
      ...Array.from({ length: USERS }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: true,
        ldap: true,
        abacAttributes: [{ key: 'department', values: VERSIONS[0]! }],
        __rooms: [ROOM],
      })),
    ]);
    await models.rooms.create({
      _id: ROOM,
      t: 'p',
      name: 'dept-x only',
      usersCount: ROOM_MEMBERS_BEFORE,
      abacAttributes: [{ key: 'department', values: ['dept-x'] }],
    });
    await models.subscriptions.create(
      Array.from({ length: USERS }, (_, index) => ({
        _id: `s-${index}`,
        rid: ROOM,
        u: { _id: userId(index), username: generatedUid(index) },
      })),
    );
    const info = slapd.info();
    await setSettings(models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: info.port,
      LDAP_BaseDN: info.baseDN,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
    });
    await setDirectoryVersion(0);
    const config = {
      mongoUri: testServers().mongo.uri,
      dbName,
      license: makeLicense(),
      publicKey: licenseKeys.publicKeyPem,
    };
    hosts = await Promise.all([startHostProcess(config), startHostProcess(config)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await connection?.dropDatabase();
    await connection?.close();
    await slapd?.stop();
  });

  it('ends in the directory state with a consistent audit trail and every eviction done once', async () => {
    const next = random(seed);
    const post = async (hostIndex: number, body: object) => {
      const response = await fetch(`${hosts[hostIndex]!.baseUrl}/api/v1/abac/users/sync`, {
        method: 'POST',
        headers: { ...ADMIN_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { users?: unknown[] } };
    };
    /** Request i names user i % USERS and a random half of the others, as usernames or as ids. */
    const overlappingBody = (request: number) => {
      const named = new Set([request % USERS]);
      for (let index = 0; index < USERS; index += 1) if (next() < 0.5) named.add(index);
      const usernames: string[] = [];
      const ids: string[] = [];
      for (const index of named)
        (next() < 0.5 ? usernames : ids).push(index % 2 ? userId(index) : generatedUid(index));
      return { ...(usernames.length ? { usernames } : {}), ...(ids.length ? { ids } : {}) };
    };
    const everyone = { usernames: Array.from({ length: USERS }, (_, index) => generatedUid(index)) };

    const started = Date.now();
    await setDirectoryVersion(1);
    // A burst across both hosts while the directory moves on twice underneath it.
    const burst = Promise.all(
      Array.from({ length: BURST }, (_, request) => post(request % 2, overlappingBody(request))),
    );
    const changes = (async () => {
      await setDirectoryVersion(2);
      await setDirectoryVersion(3);
    })();
    const [first] = await Promise.all([burst, changes]);
    await setDirectoryVersion(4);
    const last = await Promise.all(
      Array.from({ length: BURST }, (_, request) => post(request % 2, everyone)),
    );
    const seconds = (Date.now() - started) / 1000;

    const responses = [...first, ...last];
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
    const conflicts = responses
      .flatMap((response) => (response.body.users ?? []) as Array<{ error?: string }>)
      .filter((result) => result.error === 'error-write-conflict').length;

    const finalState = toState([{ key: 'department', values: VERSIONS[4]! }]);
    const users = await models.users.find({ _id: { $ne: ADMIN_ID } }).lean();
    const events = await models.serverEvents.find().lean();
    const messages = await models.messages.find({ t: REMOVED_FROM_ROOM_MESSAGE }).lean();
    let evicted = 0;
    for (const user of users) {
      expect(toState(user.abacAttributes ?? [])).toEqual(finalState);
      const ofUser = events.filter((event) =>
        event.data.some((item) => item.key === 'subject' && (item.value as { _id: string })._id === user._id),
      );
      const changesOfUser: Change[] = ofUser
        .filter((event) => event.t === 'abac.subject.attribute.changed')
        .map((event) => ({
          ts: new Date(event.ts).getTime(),
          added: event.data.find((item) => item.key === 'added')?.value as AbacAttribute[],
          removed: event.data.find((item) => item.key === 'removed')?.value as AbacAttribute[],
        }));
      expect(chains(toState([{ key: 'department', values: VERSIONS[0]! }]), changesOfUser, finalState)).toBe(
        true,
      );

      const removedMessages = messages.filter((message) => message.u?._id === user._id);
      const revocations = ofUser.filter((event) => event.t === 'abac.action.performed');
      const subscribed = (await models.subscriptions.countDocuments({ _id: `s-${user._id.slice(2)}` })) === 1;
      expect(removedMessages.length).toBeLessThanOrEqual(1);
      expect(revocations).toHaveLength(removedMessages.length);
      expect(subscribed).toBe(removedMessages.length === 0);
      expect(user.__rooms ?? []).toEqual(subscribed ? [ROOM] : []);
      evicted += removedMessages.length;
    }
    const room = await models.rooms.findById(ROOM).lean();
    expect(room?.usersCount).toBe(ROOM_MEMBERS_BEFORE - evicted);
    expect(evicted).toBeGreaterThan(0);
    reportFigure(
      'two hosts',
      `${responses.length} syncs (bursts of ${BURST}, 2 processes, 4 directory versions) in ${seconds.toFixed(1)} s, ` +
        `${events.length} audit events, ${evicted} evictions, ${conflicts} write conflicts, seed ${seed}`,
    );
  }, 120_000);
});
