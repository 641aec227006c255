import type { Models } from '../models';
import { generatedUid } from '../harness/fixtures';
import { directoryAttributes, emailOf, ldapIdOf, legacyRoomOf, userId, GHOSTS } from './data';

export interface Identifiers {
  usernames?: string[];
  ids?: string[];
  emails?: string[];
  ldapIds?: string[];
}

export interface Workload {
  name: string;
  description: string;
  identifiers: Identifiers;
  /** Puts the workload's users back in their starting state (untimed). */
  reset(models: Models): Promise<void>;
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, offset) => first + offset);

/** Gives each user the attributes `attributesOf` names and removes the previous run's messages and audit. */
async function resetAttributes(models: Models, users: number[], attributesOf: (index: number) => object[]) {
  await models.users.collection.bulkWrite(
    users.map((index) => ({
      updateOne: {
        filter: { _id: userId(index) as never },
        update: { $set: { abacAttributes: attributesOf(index) } },
      },
    })),
  );
  await clearSideEffects(models);
}

async function clearSideEffects(models: Models) {
  await Promise.all([
    models.messages.collection.deleteMany({}),
    models.serverEvents.collection.deleteMany({}),
    // Each round evicts the same subscriptions again: their records would make it count nothing out.
    models.evictionRecords.collection.deleteMany({}),
  ]);
}

const w1Users = range(0, 100);
const w2Users = range(1000, 100);

export const WORKLOADS: Workload[] = [
  {
    name: 'W1',
    description: '100 usernames, values gained (no eviction)',
    identifiers: { usernames: w1Users.map(generatedUid) },
    reset: (models) => resetAttributes(models, w1Users, (index) => directoryAttributes(index).slice(0, 1)),
  },
  {
    name: 'W2',
    description: '100 usernames, each loses a value and one ABAC room',
    identifiers: { usernames: w2Users.map(generatedUid) },
    async reset(models) {
      await models.users.collection.bulkWrite(
        w2Users.map((index) => {
          const [department, employeeType] = directoryAttributes(index);
          return {
            updateOne: {
              filter: { _id: userId(index) as never },
              update: {
                $set: {
                  abacAttributes: [
                    { key: 'department', values: [...(department?.values ?? []), 'legacy'] },
                    employeeType,
                  ],
                  __rooms: [legacyRoomOf(index)],
                },
              },
            },
          };
        }),
      );
      await models.subscriptions.collection.deleteMany({});
      await models.subscriptions.collection.insertMany(
        w2Users.map((index) => ({
          _id: `sub-${index}`,
          rid: legacyRoomOf(index),
          t: 'p',
          u: { _id: userId(index), username: generatedUid(index) },
        })) as never[],
      );
      await models.rooms.collection.updateMany({}, { $set: { usersCount: 10 } });
      await clearSideEffects(models);
    },
  },
  {
    name: 'W3',
    description: '400 identifiers in 4 lists (overlapping): updated, unchanged, not found',
    identifiers: {
      usernames: [
        ...range(2000, 100 - GHOSTS).map(generatedUid),
        ...range(0, GHOSTS).map((g) => `ghost${g}`),
      ],
      ids: range(2050, 100).map(userId),
      emails: range(2100, 100).map(emailOf),
      ldapIds: range(2150, 100).map(ldapIdOf),
    },
    // One user in three is stale (updated); the others are already current (unchanged).
    reset: (models) =>
      resetAttributes(models, range(2000, 250), (index) =>
        index % 3 === 0 ? [{ key: 'department', values: ['stale'] }] : directoryAttributes(index),
      ),
  },
  {
    name: 'W4',
    description: 'the 100 users of W1, unchanged (a re-sync: reads only)',
    identifiers: { usernames: w1Users.map(generatedUid) },
    reset: (models) => resetAttributes(models, w1Users, directoryAttributes),
  },
];
