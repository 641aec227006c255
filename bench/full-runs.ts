// Directory-wide runs: F1 (nothing changed) and F2 (5% changed, 1% losing a room) through the product's
// /jobs route, against B (the per-user loop on a 5,000-user sample) and C (one paged subtree read, one scan
// of the users, F2's writes batched by hand).
import { performance } from 'node:perf_hooks';
import { generatedUid } from '../harness/fixtures';
import type { DirectoryEntry } from '../lib/ldap/directory';
import { diffAttributes, mapEntry, sameAttributes } from '../lib/sync/attribute-mapping';
import { lookUpEntries } from '../lib/sync/entry-lookup';
import type { SyncConfiguration } from '../lib/sync/sync-configuration';
import { toSubject } from '../mongo/user-lookup';
import type { UserDocument } from '../models';
import type { Models } from '../models';
import { DIRECTORY_SIZE, directoryAttributes, GHOSTS, LEGACY_ROOMS, userId } from './data';
import {
  perUserLoop,
  PERSON,
  PROJECTION,
  writeBatched,
  type BenchContext,
  type FloorWrite,
  type Found,
} from './variants';

/** The users of a full run: every generated person and the ghosts (in MongoDB, not in the directory). */
export const RUN_USERS = DIRECTORY_SIZE + GHOSTS;
export const B_SAMPLE = Math.min(5000, DIRECTORY_SIZE);
const CHANGED_SHARE = 0.05;
const EVICTED_SHARE = 0.01;

export interface FullRunScenario {
  name: 'F1' | 'F2';
  description: string;
  /** Puts the users in the scenario's starting state (untimed). */
  reset(models: Models): Promise<void>;
}

const changedUsers = () => Math.floor(DIRECTORY_SIZE * CHANGED_SHARE);
const evictedUsers = () => Math.floor(DIRECTORY_SIZE * EVICTED_SHARE);
/** The scenario's users start after the named-users workloads' ones (below 2,300). */
const FIRST = Math.min(10_000, DIRECTORY_SIZE - changedUsers());

export const SCENARIOS: FullRunScenario[] = [
  {
    name: 'F1',
    description: `full run over ${RUN_USERS.toLocaleString('en')} LDAP users, none changed (the nightly case)`,
    reset: (models) => clearSideEffects(models),
  },
  {
    name: 'F2',
    description: `full run, ${changedUsers().toLocaleString('en')} users changed (5%), ${evictedUsers().toLocaleString('en')} of them losing a room (1%)`,
    async reset(models) {
      const changed = Array.from({ length: changedUsers() }, (_, offset) => FIRST + offset);
      const evicted = new Set(changed.slice(0, evictedUsers()));
      const now = new Date();
      await models.users.collection.bulkWrite(
        changed.map((index) => {
          const [, employeeType] = directoryAttributes(index);
          const department = evicted.has(index) ? 'legacy' : 'dept-stale';
          return {
            updateOne: {
              filter: { _id: userId(index) as never },
              update: {
                $set: {
                  abacAttributes: [{ key: 'department', values: [department] }, employeeType!],
                  __rooms: evicted.has(index) ? [`bench-legacy-${index % LEGACY_ROOMS}`] : [],
                },
              },
            },
          };
        }),
        { ordered: false },
      );
      await models.subscriptions.collection.deleteMany({});
      await models.subscriptions.collection.insertMany(
        [...evicted].map((index) => ({
          _id: `bench-sub-${index}-${now.getTime()}`,
          rid: `bench-legacy-${index % LEGACY_ROOMS}`,
          u: { _id: userId(index), username: generatedUid(index) },
        })) as never[],
      );
      await models.rooms.collection.updateMany({}, { $set: { usersCount: evictedUsers() } });
      await clearSideEffects(models);
    },
  },
];

async function clearSideEffects(models: Models) {
  await Promise.all([
    models.messages.collection.deleteMany({}),
    models.serverEvents.collection.deleteMany({}),
    models.syncJobs.collection.deleteMany({}),
    // Each round evicts the same subscriptions again: their records would make it count nothing out.
    models.evictionRecords.collection.deleteMany({}),
  ]);
}

/** B on a sample: Rocket.Chat's per-user loop over the first B_SAMPLE LDAP users of one cursor, in users/s. */
export async function perUserSample(context: BenchContext): Promise<number> {
  const started = performance.now();
  const users = await perUserLoop(context, B_SAMPLE);
  const seconds = (performance.now() - started) / 1000;
  await clearSideEffects(context.models);
  return users / seconds;
}

/**
 * C with the product's way of reading the directory: the users streamed in batches of 1,000, each batch
 * looked up with OR filters of 250 (lookUpEntries), the same join and the same writes. Against fullFloor it
 * measures the two ways of reading a whole directory and nothing else.
 */
export async function fullFloorByLookups(
  context: BenchContext,
  configuration: SyncConfiguration,
): Promise<{ ms: number; readMs: number }> {
  const { models, session, mapping } = context;
  const started = performance.now();
  const writes: FloorWrite[] = [];
  const cursor = models.users
    .find({ ldap: true, active: true }, PROJECTION)
    .lean<Found[]>()
    .cursor({ batchSize: 1000 });
  let batch: Found[] = [];
  const lookUp = async (users: Found[]) => {
    // The same mapping from user document to subject as the product's store.
    const subjects = users.map((user) => toSubject(user as UserDocument));
    const matches = await lookUpEntries(session, configuration, subjects);
    for (const user of users) {
      const match = matches.get(user._id);
      if (match?.kind !== 'found') continue;
      const next = mapEntry(match.entry, mapping);
      if (sameAttributes(user.abacAttributes ?? [], next)) continue;
      writes.push({ user, next, ...diffAttributes(user.abacAttributes ?? [], next) });
    }
  };
  for await (const document of cursor) {
    batch.push(document as Found);
    if (batch.length === 1000) {
      await lookUp(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await lookUp(batch);
  const readMs = performance.now() - started;
  await writeBatched(models, writes, new Date());
  return { ms: performance.now() - started, readMs };
}

/**
 * C: one paged read of the whole subtree, one scan of the LDAP users joined to it by identifier (the stored
 * one, else the uid), and the writes batched by hand. Resolves with its time and how much of it was reading.
 */
export async function fullFloor(context: BenchContext): Promise<{ ms: number; readMs: number }> {
  const { models, session, mapping, baseDN } = context;
  const started = performance.now();
  const byUid = new Map<string, DirectoryEntry>();
  const byEmployeeNumber = new Map<string, DirectoryEntry>();
  await session.search(
    {
      baseDN,
      scope: 'sub',
      filter: { kind: 'configured', text: PERSON },
      attributes: [...mapping.ldapAttributes, 'uid', 'employeeNumber'],
      pageSize: 1000,
      sizeLimit: 0,
    },
    (entry) => {
      const uid = entry.attributes.get('uid')?.values[0]?.toLowerCase();
      if (uid) byUid.set(uid, entry);
      const number = entry.attributes.get('employeenumber')?.buffers[0]?.toString('hex');
      if (number) byEmployeeNumber.set(number, entry);
    },
  );
  const writes: FloorWrite[] = [];
  const cursor = models.users.find({ ldap: true, active: true }, PROJECTION).lean<Found[]>().cursor();
  for await (const document of cursor) {
    const user = document as Found;
    const ldapId = (user.services as { ldap?: { id: string } } | undefined)?.ldap?.id;
    const entry = (ldapId && byEmployeeNumber.get(ldapId)) || byUid.get(user.username?.toLowerCase() ?? '');
    if (!entry) continue;
    const next = mapEntry(entry, mapping);
    if (sameAttributes(user.abacAttributes ?? [], next)) continue;
    writes.push({ user, next, ...diffAttributes(user.abacAttributes ?? [], next) });
  }
  const readMs = performance.now() - started;
  await writeBatched(models, writes, new Date());
  return { ms: performance.now() - started, readMs };
}
