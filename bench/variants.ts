// Variants B (the per-user algorithm Rocket.Chat ships) and C (the same work batched by hand, the floor).
import { performance } from 'node:perf_hooks';
import type { AttributeMapping } from '../lib/sync/attribute-mapping';
import { diffAttributes, mapEntry, sameAttributes, satisfies } from '../lib/sync/attribute-mapping';
import type { DirectoryEntry, DirectorySession } from '../lib/ldap/directory';
import { allOf, anyOf, equals, type DirectoryFilter } from '../lib/ldap/filter';
import type { AbacAttribute, Models, RoomDocument, UserDocument } from '../models';
import type { Identifiers } from './workloads';

export interface BenchContext {
  models: Models;
  session: DirectorySession;
  mapping: AttributeMapping;
  baseDN: string;
}

export const PERSON = '(objectClass=inetOrgPerson)';
export type Found = Pick<UserDocument, '_id' | 'username' | 'abacAttributes' | '__rooms' | 'services'>;
export const PROJECTION = { username: 1, abacAttributes: 1, __rooms: 1, services: 1, active: 1 };

function userFilter(list: keyof Identifiers, value: string | RegExp | { $in: string[] }): object {
  if (list === 'emails') return { 'emails.address': value };
  const field = { usernames: 'username', ids: '_id', ldapIds: 'services.ldap.id' }[list];
  return { [field]: value };
}

function entryFilter(user: Found): DirectoryFilter {
  const ldap = (user.services as { ldap?: { id: string; idAttribute: string } } | undefined)?.ldap;
  return ldap ? equals(ldap.idAttribute, Buffer.from(ldap.id, 'hex')) : equals('uid', user.username ?? '');
}

function auditDocument(user: Found, added: AbacAttribute[], removed: AbacAttribute[], now: Date) {
  return {
    t: 'abac.subject.attribute.changed',
    ts: now,
    actor: { type: 'user', _id: 'bench' },
    data: [
      { key: 'subject', value: { _id: user._id, username: user.username } },
      { key: 'added', value: added },
      { key: 'removed', value: removed },
    ],
  };
}

function revocationDocuments(user: Found, room: RoomDocument, now: Date) {
  return {
    message: {
      _id: `m-${user._id}-${room._id}-${now.getTime()}`,
      rid: room._id,
      t: 'abac-removed-user-from-room',
      msg: user.username,
      ts: now,
    },
    audit: {
      t: 'abac.action.performed',
      ts: now,
      actor: { type: 'user', _id: 'bench' },
      data: [
        { key: 'subject', value: user._id },
        { key: 'object', value: room._id },
      ],
    },
  };
}

/**
 * B, as Rocket.Chat's per-user loop does it: for each user in sequence one search and one findOneAndUpdate
 * on the raw driver, an audit event only when the values changed, and the evictions room by room.
 */
export async function perUserAlgorithm(context: BenchContext, identifiers: Identifiers): Promise<void> {
  const seen = new Set<string>();
  for (const list of ['usernames', 'ids', 'emails', 'ldapIds'] as const) {
    for (const value of identifiers[list] ?? []) {
      const user = await context.models.users.collection.findOne<Found>(userFilter(list, value), {
        projection: PROJECTION,
      });
      if (!user || seen.has(user._id)) continue;
      seen.add(user._id);
      await syncOneUser(context, user);
    }
  }
}

/** B over every LDAP user: one cursor over `find({ldap: true})`, each user synced as perUserAlgorithm does. */
export async function perUserLoop(context: BenchContext, limit: number): Promise<number> {
  let users = 0;
  const cursor = context.models.users.collection.find<Found>({ ldap: true }, { projection: PROJECTION });
  for await (const user of cursor.limit(limit)) {
    await syncOneUser(context, user);
    users += 1;
  }
  return users;
}

async function syncOneUser(context: BenchContext, user: Found): Promise<void> {
  const { models, session, mapping, baseDN } = context;
  const entries: DirectoryEntry[] = [];
  await session.search(
    {
      baseDN,
      scope: 'sub',
      filter: allOf([{ kind: 'configured', text: PERSON }, entryFilter(user)]),
      attributes: [...mapping.ldapAttributes],
      pageSize: 250,
      sizeLimit: 0,
    },
    (entry) => entries.push(entry),
  );
  const [entry] = entries;
  if (!entry) return;
  const next = mapEntry(entry, mapping);
  const now = new Date();
  const { added, removed } = diffAttributes(user.abacAttributes ?? [], next);
  await models.users.collection.findOneAndUpdate({ _id: user._id as never }, {
    $set: { abacAttributes: next, _updatedAt: now },
  } as never);
  if (added.length === 0 && removed.length === 0) return;
  await models.serverEvents.collection.insertOne(auditDocument(user, added, removed, now) as never);
  if (removed.length === 0) return;
  const rooms = await models.rooms
    .find({ _id: { $in: user.__rooms ?? [] } })
    .lean<RoomDocument[]>()
    .exec();
  for (const room of rooms) {
    if (!room.abacAttributes?.length || satisfies(next, room.abacAttributes)) continue;
    const { message, audit } = revocationDocuments(user, room, now);
    await models.subscriptions.collection.deleteOne({ rid: room._id, 'u._id': user._id });
    await models.users.collection.updateOne({ _id: user._id as never }, {
      $pull: { __rooms: room._id },
    } as never);
    await models.rooms.collection.updateOne({ _id: room._id as never }, { $inc: { usersCount: -1 } });
    await models.messages.collection.insertOne(message as never);
    await models.serverEvents.collection.insertOne(audit as never);
  }
}

export interface FloorTimings {
  /** Reads only (user queries and the LDAP search): W4's reference. */
  readMs: number;
}

/** C: the same reads and writes, batched by hand, with no HTTP and no checks (C+ shapes the writes as A's). */
export async function batchedFloor(
  context: BenchContext,
  identifiers: Identifiers,
  shape: WriteShape = 'plain',
): Promise<FloorTimings> {
  const { models, session, mapping, baseDN } = context;
  const started = performance.now();
  const users = new Map<string, Found>();
  await Promise.all(
    (['usernames', 'ids', 'emails', 'ldapIds'] as const).map(async (list) => {
      const values = identifiers[list] ?? [];
      if (values.length === 0) return;
      const found = await models.users
        .find(userFilter(list, { $in: values }), PROJECTION)
        .lean<Found[]>()
        .exec();
      for (const user of found) users.set(user._id, user);
    }),
  );
  const subjects = [...users.values()];
  const entries = new Map<string, DirectoryEntry>();
  const byUid = new Map(subjects.map((user) => [user.username?.toLowerCase() ?? '', user]));
  const byLdapId = new Map(
    subjects.flatMap((user) => {
      const id = (user.services as { ldap?: { id: string } } | undefined)?.ldap?.id;
      return id ? [[id, user] as const] : [];
    }),
  );
  await session.search(
    {
      baseDN,
      scope: 'sub',
      filter: allOf([{ kind: 'configured', text: PERSON }, anyOf(subjects.map(entryFilter))]),
      attributes: [...mapping.ldapAttributes, 'uid', 'employeeNumber'],
      pageSize: 1000,
      sizeLimit: 0,
    },
    (entry) => {
      const owner =
        byLdapId.get(entry.attributes.get('employeenumber')?.buffers[0]?.toString('hex') ?? '') ??
        byUid.get(entry.attributes.get('uid')?.values[0]?.toLowerCase() ?? '');
      if (owner) entries.set(owner._id, entry);
    },
  );
  const readMs = performance.now() - started;

  const now = new Date();
  const writes: FloorWrite[] = [];
  for (const user of subjects) {
    const entry = entries.get(user._id);
    if (!entry) continue;
    const next = mapEntry(entry, mapping);
    if (sameAttributes(user.abacAttributes ?? [], next)) continue;
    writes.push({ user, next, ...diffAttributes(user.abacAttributes ?? [], next) });
  }
  await writeBatched(models, writes, now, shape);
  return { readMs };
}

export interface FloorWrite {
  user: Found;
  next: AbacAttribute[];
  added: AbacAttribute[];
  removed: AbacAttribute[];
}

/**
 * How C writes: `plain`, each kind in one bulk call; `asTheModule` (C+), the same calls shaped as the
 * module sends them: each user's update conditioned on the attributes and rooms read and an empty audit
 * outbox, carrying its audit events with their undo records in that outbox, and after the evictions the
 * events copied to the audit trail, the records to the undo journal, and the outboxes emptied.
 */
export type WriteShape = 'plain' | 'asTheModule';

/** C's writes: attributes, evictions, messages and audit, each kind in one bulk call. */
export async function writeBatched(
  models: Models,
  writes: readonly FloorWrite[],
  now: Date,
  shape: WriteShape = 'plain',
): Promise<void> {
  if (writes.length === 0) return;
  const revoked = await revocationsOf(models, writes);
  const revocations = revoked.map(({ user, room }) => ({
    user,
    room,
    ...revocationDocuments(user, room, now),
  }));
  const audit = writes.map(({ user, added, removed }) => ({
    user,
    event: auditDocument(user, added, removed, now),
  }));
  const outboxOf = new Map<string, Record<string, object>>();
  // C+ keeps what undo needs as A does: each event's undo record rides in the outbox beside it (the
  // attributes before and after; an ended membership's subscription, read whole), then goes to the journal.
  const journal: object[] = [];
  if (shape === 'asTheModule') {
    const subscriptions = await subscriptionsOf(models, revoked);
    let sequence = 0;
    const changes = [
      ...audit.map(({ user, event }, index) => ({
        user,
        event,
        undo: { kind: 'attributes', before: user.abacAttributes ?? [], after: writes[index]!.next },
      })),
      ...revocations.map(({ user, room, audit: event }) => ({
        user,
        event,
        undo: {
          kind: 'membershipEnded',
          room: { _id: room._id, name: room.name },
          subscription: subscriptions.get(`${room._id}/${user._id}`),
        },
      })),
    ];
    for (const { user, event, undo } of changes) {
      const id = `e${(sequence += 1)}`;
      const outbox = outboxOf.get(user._id) ?? {};
      const record = { changeSet: 'bench', userId: user._id, username: user.username, ...undo };
      outbox[id] = { ...event, undo: record };
      outboxOf.set(user._id, outbox);
      journal.push({ _id: `bench-${now.getTime()}-${id}`, at: now, ...record });
    }
  }
  const written = await models.users.collection.bulkWrite(
    writes.map(({ user, next }) => ({
      updateOne:
        shape === 'plain'
          ? {
              filter: { _id: user._id as never },
              update: { $set: { abacAttributes: next, _updatedAt: now } },
            }
          : {
              filter: {
                _id: user._id as never,
                abacAttributes: user.abacAttributes ?? { $exists: false },
                __rooms: user.__rooms ?? { $exists: false },
                __abacAuditOutbox: { $in: [null, {}] },
              } as never,
              update: {
                $set: {
                  abacAttributes: next,
                  _updatedAt: now,
                  ...Object.fromEntries(
                    Object.entries(outboxOf.get(user._id) ?? {}).map(([id, event]) => [
                      `__abacAuditOutbox.${id}`,
                      event,
                    ]),
                  ),
                },
              },
            },
    })),
    { ordered: false },
  );
  // A condition that matched nothing would make C+ cheaper than the work it stands for.
  if (written.matchedCount !== writes.length)
    throw new Error(`${writes.length - written.matchedCount} of C's writes matched no user`);
  if (revoked.length > 0) {
    await models.subscriptions.collection.bulkWrite(
      revoked.map(({ user, room }) => ({ deleteOne: { filter: { rid: room._id, 'u._id': user._id } } })),
      { ordered: false },
    );
    await models.users.collection.bulkWrite(
      revoked.map(({ user, room }) => ({
        updateOne: {
          filter: { _id: user._id as never },
          update: { $pull: { __rooms: room._id } } as never,
        },
      })),
      { ordered: false },
    );
    const perRoom = new Map<string, number>();
    for (const { room } of revoked) perRoom.set(room._id, (perRoom.get(room._id) ?? 0) + 1);
    await models.rooms.collection.bulkWrite(
      [...perRoom].map(([rid, count]) => ({
        updateOne: { filter: { _id: rid as never }, update: { $inc: { usersCount: -count } } },
      })),
      { ordered: false },
    );
    await models.messages.collection.insertMany(revocations.map(({ message }) => message) as never[]);
  }
  await Promise.all([
    models.serverEvents.collection.insertMany([
      ...audit.map(({ event }) => event),
      ...revocations.map(({ audit: event }) => event),
    ] as never[]),
    journal.length > 0 ? models.undoJournal.collection.insertMany(journal as never[]) : undefined,
  ]);
  if (shape === 'asTheModule')
    await models.users.collection.bulkWrite(
      [...outboxOf].map(([userId, outbox]) => ({
        updateOne: {
          filter: { _id: userId as never },
          update: {
            $unset: Object.fromEntries(Object.keys(outbox).map((id) => [`__abacAuditOutbox.${id}`, 1])),
          },
        },
      })),
      { ordered: false },
    );
}

/** The subscriptions the revocations end, whole, by `<room id>/<user id>` (one query, as A reads them). */
async function subscriptionsOf(models: Models, revoked: readonly { user: Found; room: RoomDocument }[]) {
  const found = new Map<string, object>();
  if (revoked.length === 0) return found;
  const documents = await models.subscriptions.collection
    .find({
      rid: { $in: [...new Set(revoked.map(({ room }) => room._id))] },
      'u._id': { $in: [...new Set(revoked.map(({ user }) => user._id))] },
    } as never)
    .toArray();
  for (const document of documents) {
    const { rid, u } = document as unknown as { rid: string; u: { _id: string } };
    found.set(`${rid}/${u._id}`, document);
  }
  return found;
}

/** The ABAC rooms the users losing a value no longer satisfy. */
async function revocationsOf(models: Models, writes: readonly FloorWrite[]) {
  const losing = writes.filter((write) => write.removed.length > 0);
  const roomIds = [...new Set(losing.flatMap((write) => write.user.__rooms ?? []))];
  if (roomIds.length === 0) return [];
  const rooms = new Map(
    (
      await models.rooms
        .find({ _id: { $in: roomIds } })
        .lean<RoomDocument[]>()
        .exec()
    ).map((room) => [room._id, room]),
  );
  return losing.flatMap(({ user, next }) =>
    (user.__rooms ?? []).flatMap((rid) => {
      const room = rooms.get(rid);
      return room?.abacAttributes?.length && !satisfies(next, room.abacAttributes) ? [{ user, room }] : [];
    }),
  );
}
