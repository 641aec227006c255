import type { Connection } from 'mongoose';
import { silentLogger } from '../../lib/logger';
import { noMetrics } from '../../lib/metrics';
import { membershipKey, type SyncStore } from '../../lib/sync/sync-store';
import { createModels, ensureIndexes } from '../../models';
import { MongoSyncStore } from '../../mongo/mongo-sync-store';
import { closeTestDatabase, openTestDatabase } from '../helpers/database';
import { ManualClock } from '../helpers/host';
import { MemorySyncStore } from '../helpers/memory-sync-store';
import { MemoryUndoStore } from '../helpers/memory-undo-store';
import { MongoUndoStore } from '../../mongo/mongo-undo-store';
import type { UndoStore } from '../../lib/undo/undo-store';
import type { OutboxEvent } from '../../lib/sync/audit-events';

const EVENT = {
  _id: 'e1',
  t: 'abac.subject.attribute.changed',
  ts: new Date('2026-12-01T00:00:00Z'),
  actor: { type: 'user' as const, _id: 'admin', username: 'root' },
  data: [],
};

/** What a contract case needs from a store under test, beyond the port itself. */
interface StoreFixture {
  store: SyncStore;
  attributesOf(userId: string): Promise<unknown>;
  outboxOf(userId: string): Promise<Record<string, unknown> | undefined>;
  auditIds(): Promise<string[]>;
  /** An event as the audit trail holds it. */
  auditEvent(id: string): Promise<unknown>;
  journal: UndoStore;
  /** Claims the user as `holder` would, outside the store (as a process that then died). */
  holdElsewhere(userId: string, holder?: string): Promise<void>;
  close(): Promise<void>;
}

const ALICE = { key: 'department', values: ['sales'] };
/** What the chat server keeps on a subscription besides its room and user: undo puts it back as it was. */
const OWN_FIELDS = { ls: new Date('2026-11-30T08:00:00Z'), roles: ['owner'], unread: 3 };

/** Users whose identifier attributes a directory-wide read need not ask for: not active, not from LDAP. */
const RETIRED = {
  _id: 'u-retired',
  username: 'retired',
  active: false,
  ldap: true,
  services: { ldap: { id: 'c3', idAttribute: 'objectGUID' } },
};
const LOCAL = {
  _id: 'u-local',
  username: 'local',
  active: true,
  ldap: false,
  services: { ldap: { id: 'd4', idAttribute: 'uidNumber' } },
};

async function memoryFixture(): Promise<StoreFixture> {
  const store = new MemorySyncStore();
  store.users.set('u-alice', {
    _id: 'u-alice',
    username: 'Alice',
    ldap: true,
    emails: ['alice@example.org'],
    ldapId: { id: 'a1b2', idAttribute: 'entryUUID' },
    abacAttributes: [ALICE],
    rooms: ['r-sales', 'r-plain'],
  });
  store.users.set('u-gone', { _id: 'u-gone', username: 'gone', active: false, ldap: true });
  for (const { services, ...user } of [RETIRED, LOCAL])
    store.users.set(user._id, { ...user, ldapId: services.ldap });
  store.rooms.set('r-sales', { _id: 'r-sales', name: 'sales', usersCount: 2, abacAttributes: [ALICE] });
  store.rooms.set('r-plain', { _id: 'r-plain', name: 'plain', usersCount: 5 });
  store.subscriptions.set('s1', { rid: 'r-sales', userId: 'u-alice', ...OWN_FIELDS });
  return {
    store,
    attributesOf: async (id) => store.users.get(id)?.abacAttributes,
    outboxOf: async (id) => store.users.get(id)?.outbox,
    auditIds: async () => [...store.auditTrail.keys()].sort(),
    auditEvent: async (id) => store.auditTrail.get(id),
    journal: new MemoryUndoStore(store),
    holdElsewhere: async (id, holder = 'elsewhere') => {
      store.heldElsewhere.set(id, holder);
    },
    close: async () => undefined,
  };
}

async function mongoFixture(): Promise<StoreFixture> {
  const connection: Connection = await openTestDatabase();
  const models = createModels(connection);
  await ensureIndexes(models);
  await models.users.create([
    {
      _id: 'u-alice',
      username: 'Alice',
      active: true,
      ldap: true,
      emails: [{ address: 'alice@example.org', verified: true }],
      services: { ldap: { id: 'a1b2', idAttribute: 'entryUUID' } },
      abacAttributes: [ALICE],
      __rooms: ['r-sales', 'r-plain'],
    },
    { _id: 'u-gone', username: 'gone', active: false, ldap: true },
    RETIRED,
    LOCAL,
  ]);
  await models.rooms.create([
    { _id: 'r-sales', t: 'p', name: 'sales', usersCount: 2, abacAttributes: [ALICE] },
    { _id: 'r-plain', t: 'p', name: 'plain', usersCount: 5 },
  ]);
  await models.subscriptions.collection.insertOne({
    _id: 's1' as never,
    rid: 'r-sales',
    u: { _id: 'u-alice' },
    ...OWN_FIELDS,
  });
  const store = new MongoSyncStore({
    models,
    clock: new ManualClock(),
    logger: silentLogger,
    metrics: noMetrics,
  });
  return {
    store,
    attributesOf: async (id) => (await models.users.findById(id).lean())?.abacAttributes,
    outboxOf: async (id) => (await models.users.findById(id).lean())?.__abacAuditOutbox,
    auditIds: async () =>
      (await models.serverEvents.find({}, { _id: 1 }).lean()).map(({ _id }) => _id).sort(),
    auditEvent: (id) => models.serverEvents.findById(id).lean().exec(),
    journal: new MongoUndoStore(models),
    holdElsewhere: async (id, holder = 'elsewhere') => {
      await models.writeClaims.collection.insertOne({
        _id: id as never,
        owner: holder,
        claimedAt: new Date(),
      });
    },
    close: () => closeTestDatabase(connection),
  };
}

/** The same cases against the MongoDB adapter and the in-memory store, so the fake cannot drift. */
describe.each([
  ['in memory', memoryFixture],
  ['on MongoDB', mongoFixture],
])('the store port %s', (_name, makeFixture) => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(() => fixture.close());

  it('finds active users by id, username and email ignoring case, and ldapId in any hex case', async () => {
    const { subjects, unmatched } = await fixture.store.findSubjects({
      usernames: ['alice', 'gone'],
      emails: ['ALICE@example.org'],
      ldapIds: ['A1B2'],
      ids: ['nobody'],
    });
    expect(subjects).toEqual([
      {
        _id: 'u-alice',
        username: 'Alice',
        emails: ['alice@example.org'],
        storedAttributes: [ALICE],
        rooms: ['r-sales', 'r-plain'],
        ldap: { id: 'a1b2', idAttribute: 'entryUUID' },
        fromLdap: true,
        outbox: undefined,
        asStored: { attributes: [ALICE], rooms: ['r-sales', 'r-plain'] },
      },
    ]);
    expect(unmatched).toEqual({ usernames: ['gone'], ids: ['nobody'], emails: [], ldapIds: [] });
  });

  it('gives the identifiers of the active LDAP users only, in batches, as they would be looked up', async () => {
    const batches = [];
    for await (const batch of fixture.store.ldapSubjectIdentifiers(10)) batches.push(batch);
    expect(batches).toEqual([
      [{ _id: 'u-alice', username: 'Alice', ldap: { id: 'a1b2', idAttribute: 'entryUUID' } }],
    ]);
  });

  it('names each identifier attribute active LDAP users are stored under once, and no other', async () => {
    expect(await fixture.store.ldapIdentifierAttributes()).toEqual(['entryUUID']);
  });

  it('returns only ABAC-managed rooms, and the whole subscriptions of each (room, user) pair that has any', async () => {
    expect(await fixture.store.findAbacRooms(['r-sales', 'r-plain', 'r-none'])).toEqual([
      { _id: 'r-sales', name: 'sales', abacAttributes: [ALICE] },
    ]);
    const memberships = await fixture.store.findMemberships([
      { userId: 'u-alice', roomId: 'r-sales' },
      { userId: 'u-alice', roomId: 'r-plain' },
    ]);
    expect([...memberships]).toEqual([
      [
        membershipKey('r-sales', 'u-alice'),
        [{ _id: 's1', rid: 'r-sales', u: { _id: 'u-alice' }, ...OWN_FIELDS }],
      ],
    ]);
  });

  it('writes only when the user still holds the value read, and stores the outbox with the change', async () => {
    const eng = [{ key: 'department', values: ['eng'] }];
    const lost = await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: eng, next: [], outbox: {} }],
      new Date(),
    );
    expect(lost).toEqual({ applied: [], lost: ['u-alice'] });
    expect(await fixture.attributesOf('u-alice')).toEqual([ALICE]);

    const applied = await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: eng, outbox: { e1: EVENT } }],
      new Date(),
    );
    expect(applied).toEqual({ applied: ['u-alice'], lost: [] });
    const [claimed] = await fixture.store.readUsers(['u-alice', 'u-missing']);
    expect(claimed).toEqual({
      _id: 'u-alice',
      attributes: eng,
      rooms: ['r-sales', 'r-plain'],
      roomsAsStored: ['r-sales', 'r-plain'],
      outbox: { e1: EVENT },
    });
    // A user without a rooms field reads as no rooms, and as absent for a write conditioned on the field.
    expect(await fixture.store.readUsers(['u-gone'])).toEqual([
      { _id: 'u-gone', attributes: undefined, rooms: [], roomsAsStored: undefined, outbox: undefined },
    ]);

    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: eng, next: [], outbox: {} }],
      new Date(),
    );
    expect(await fixture.attributesOf('u-alice')).toBeUndefined();
  });

  it('writes without a claim only while the user holds the attributes and rooms read and no waiting events', async () => {
    const eng = [{ key: 'department', values: ['eng'] }];
    const unclaimed = (rooms: string[] | undefined, userId = 'u-alice') => ({
      userId,
      before: [ALICE],
      next: eng,
      outbox: {},
      unclaimed: { rooms },
    });
    expect(await fixture.store.writeIfUnchanged([unclaimed(['r-sales'])], new Date())).toEqual({
      applied: [],
      lost: ['u-alice'],
    });
    expect(await fixture.store.writeIfUnchanged([unclaimed(undefined)], new Date())).toEqual({
      applied: [],
      lost: ['u-alice'],
    });
    // Events waiting in the outbox (an interrupted sync's): the claims must decide.
    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: undefined, outbox: { e1: EVENT } }],
      new Date(),
    );
    expect(
      await fixture.store.writeIfUnchanged(
        [{ ...unclaimed(['r-sales', 'r-plain']), outbox: { e2: EVENT } }],
        new Date(),
      ),
    ).toEqual({ applied: [], lost: ['u-alice'] });
    expect(await fixture.attributesOf('u-alice')).toEqual([ALICE]);
    // Once they are copied, the emptied outbox waits for nothing.
    const copied = await fixture.store.copyAudit(new Map([['u-alice', { e1: EVENT }]]), 'req');
    await fixture.store.clearOutboxes(copied);
    expect(
      await fixture.store.writeIfUnchanged(
        [{ ...unclaimed(['r-sales', 'r-plain']), outbox: { e2: EVENT } }],
        new Date(),
      ),
    ).toEqual({ applied: ['u-alice'], lost: [] });
    expect(await fixture.attributesOf('u-alice')).toEqual(eng);
  });

  it('says which users are claimed now', async () => {
    await fixture.holdElsewhere('u-alice');
    expect(await fixture.store.findClaimed(['u-alice', 'u-other'])).toEqual(new Set(['u-alice']));
  });

  it('copies outbox events to the audit trail once and empties the outbox', async () => {
    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: undefined, outbox: { e1: EVENT } }],
      new Date(),
    );
    const outboxes = new Map([['u-alice', { e1: EVENT }]]);
    const copied = await fixture.store.copyAudit(outboxes, 'req');
    expect(copied).toEqual(outboxes);
    // Copied but not cleared yet (a deferred clearing, a crash): a second copy stores nothing twice.
    expect(await fixture.outboxOf('u-alice')).toEqual({ e1: EVENT });
    expect(await fixture.store.copyAudit(outboxes, 'req')).toEqual(outboxes);
    expect(await fixture.auditIds()).toEqual(['e1']);
    await fixture.store.clearOutboxes(copied);
    expect(await fixture.outboxOf('u-alice')).toEqual({});
  });

  it("copies an event's undo record to the undo journal once, never to the audit trail", async () => {
    const subscription = { _id: 's1', rid: 'r-sales', u: { _id: 'u-alice' }, ...OWN_FIELDS };
    const undone = { changeSet: 'req', userId: 'u-alice', username: 'Alice' };
    const changed: OutboxEvent = {
      ...EVENT,
      undo: { ...undone, kind: 'attributes', before: [ALICE], after: [] },
    };
    const revoked: OutboxEvent = {
      ...EVENT,
      _id: 'e2',
      t: 'abac.action.performed',
      undo: { ...undone, kind: 'membershipEnded', room: { _id: 'r-sales', name: 'sales' }, subscription },
    };
    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: [], outbox: { e1: changed, e2: revoked } }],
      new Date(),
    );
    const outboxes = new Map([['u-alice', { e1: changed, e2: revoked }]]);
    expect(await fixture.store.copyAudit(outboxes, 'req')).toEqual(outboxes);
    expect(await fixture.store.copyAudit(outboxes, 'req')).toEqual(outboxes);

    expect(await fixture.auditEvent('e1')).toEqual(EVENT);
    expect(await fixture.auditEvent('e2')).toEqual({ ...EVENT, _id: 'e2', t: 'abac.action.performed' });
    expect(await fixture.journal.entriesOf('req', ['u-alice'])).toEqual([
      { _id: 'e1', at: EVENT.ts, ...changed.undo },
      { _id: 'e2', at: EVENT.ts, ...revoked.undo },
    ]);
    expect(await fixture.journal.entriesOf('other', ['u-alice'])).toEqual([]);
  });

  it('answers what undo reads: the users of a change set, later changes by others, rooms, the audit', async () => {
    const undo = { userId: 'u-alice', username: 'Alice', kind: 'attributes' as const, before: [], after: [] };
    const event = (id: string, changeSet: string, ts: string): OutboxEvent => ({
      ...EVENT,
      _id: id,
      ts: new Date(ts),
      data: [{ key: 'requestId', value: changeSet }],
      undo: { ...undo, changeSet },
    });
    await fixture.store.copyAudit(
      new Map([
        [
          'u-alice',
          {
            e1: event('e1', 'req', '2026-12-01T00:00:00Z'),
            e2: event('e2', 'later', '2026-12-02T00:00:00Z'),
            e3: event('e3', 'later', '2026-12-03T00:00:00Z'),
          },
        ],
      ]),
      'req',
    );
    expect(await fixture.journal.usersOf('req')).toEqual(['u-alice']);
    expect(await fixture.journal.usersOf('nothing')).toEqual([]);
    expect(
      await fixture.journal.lastChangedElsewhere(
        ['u-alice', 'u-other'],
        new Date('2026-12-01T00:00:00Z'),
        'req',
      ),
    ).toEqual(new Map([['u-alice', new Date('2026-12-03T00:00:00Z')]]));
    expect(
      await fixture.journal.lastChangedElsewhere(['u-alice'], new Date('2026-12-03T00:00:00Z'), 'req'),
    ).toEqual(new Map());
    expect(await fixture.journal.findRooms(['r-sales', 'r-plain', 'r-gone'])).toEqual(
      new Map([
        ['r-sales', { _id: 'r-sales', name: 'sales', abacAttributes: [ALICE] }],
        ['r-plain', { _id: 'r-plain', name: 'plain', abacAttributes: [] }],
      ]),
    );
    expect(await fixture.journal.wasAudited('later')).toBe(true);
    expect(await fixture.journal.wasAudited('never')).toBe(false);
  });

  it('forgets the undo records of changes made before a time, and only those', async () => {
    const undo = { changeSet: 'req', userId: 'u-alice', username: 'Alice', kind: 'attributes' as const };
    const older: OutboxEvent = { ...EVENT, undo: { ...undo, before: [ALICE], after: [] } };
    const newer: OutboxEvent = {
      ...EVENT,
      _id: 'e2',
      ts: new Date('2026-12-03T00:00:00Z'),
      undo: { ...undo, before: [], after: [ALICE] },
    };
    await fixture.store.copyAudit(new Map([['u-alice', { e1: older, e2: newer }]]), 'req');
    expect(await fixture.journal.removeBefore(new Date('2026-12-02T00:00:00Z'))).toBe(1);
    expect((await fixture.journal.entriesOf('req', ['u-alice'])).map(({ _id }) => _id)).toEqual(['e2']);
  });

  it('clears only the events it copied: one added to the outbox since stays', async () => {
    const e2 = { ...EVENT, _id: 'e2' };
    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: undefined, outbox: { e1: EVENT } }],
      new Date(),
    );
    const copied = await fixture.store.copyAudit(new Map([['u-alice', { e1: EVENT }]]), 'req');
    await fixture.store.writeIfUnchanged(
      [{ userId: 'u-alice', before: [ALICE], next: undefined, outbox: { e2 } }],
      new Date(),
    );
    await fixture.store.clearOutboxes(copied);
    expect(await fixture.outboxOf('u-alice')).toEqual({ e2 });
  });

  it('runs work over the users it can claim, retries those handed back, and returns those held elsewhere', async () => {
    await fixture.holdElsewhere('u-held');
    const seen: string[][] = [];
    let handedBack = false;
    const unclaimed = await fixture.store.runClaimed(['u-alice', 'u-held'], async (claimed) => {
      seen.push(claimed);
      const retry = handedBack ? [] : ['u-alice'];
      handedBack = true;
      return { retry };
    });
    expect(unclaimed).toEqual(['u-held']);
    expect(seen.slice(0, 2)).toEqual([['u-alice'], ['u-alice']]);
  });

  it('gives a named holder the claims it left behind (a run resumed after its process died)', async () => {
    await fixture.holdElsewhere('u-alice', 'run:j1');
    await fixture.holdElsewhere('u-held', 'run:j0');
    const seen: string[][] = [];
    const unclaimed = await fixture.store.runClaimed(
      ['u-alice', 'u-held'],
      async (claimed) => {
        seen.push(claimed);
        return { retry: [] };
      },
      'run:j1',
    );
    expect(seen[0]).toEqual(['u-alice']);
    expect(unclaimed).toEqual(['u-held']);
  });
});
