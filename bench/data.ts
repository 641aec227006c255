import type { AbacAttribute, Models } from '../models';
import { generatedDepartment, generatedUid } from '../harness/fixtures';

/** 100,000 unless BENCH_SIZE says otherwise (at least 3,000: the workloads use users up to #2,299). */
export const DIRECTORY_SIZE = Math.max(3_000, Number(process.env.BENCH_SIZE ?? 100_000));
export const LEGACY_ROOMS = 10;
/** Users who carry services.ldap (matched by employeeNumber's bytes): the ldapIds list of W3. */
export const LDAP_ID_USERS = { first: 2000, end: 2300 };
/** Users in MongoDB with no entry in the directory (notFoundInLdap in W3). */
export const GHOSTS = 20;

export const userId = (index: number) => `id-${index}`;
export const emailOf = (index: number) => `${generatedUid(index)}@example.org`;
export const ldapIdOf = (index: number) => Buffer.from(String(100000 + index)).toString('hex');
export const legacyRoomOf = (index: number) => `bench-legacy-${index % LEGACY_ROOMS}`;

/** The attributes the directory maps to for generated person `index`. */
export function directoryAttributes(index: number): AbacAttribute[] {
  return [
    { key: 'department', values: [generatedDepartment(index)] },
    { key: 'employeeType', values: [index % 2 === 0 ? 'staff' : 'contractor'] },
  ];
}

/** 100,000 users matching the directory, all in sync with it to begin with. */
export async function seedUsers(models: Models): Promise<void> {
  const batch = 5000;
  for (let first = 0; first < DIRECTORY_SIZE; first += batch) {
    await models.users.collection.insertMany(
      Array.from({ length: Math.min(batch, DIRECTORY_SIZE - first) }, (_, offset) => {
        const index = first + offset;
        return {
          _id: userId(index),
          username: generatedUid(index),
          active: true,
          ldap: true,
          roles: ['user'],
          emails: [{ address: emailOf(index), verified: true }],
          ...(index >= LDAP_ID_USERS.first && index < LDAP_ID_USERS.end
            ? { services: { ldap: { id: ldapIdOf(index), idAttribute: 'employeeNumber' } } }
            : {}),
          abacAttributes: directoryAttributes(index),
          __rooms: [],
          _updatedAt: new Date(0),
        } as never;
      }),
    );
  }
  await models.users.collection.insertMany(
    Array.from({ length: GHOSTS }, (_, ghost) => ({
      _id: `ghost-${ghost}`,
      username: `ghost${ghost}`,
      active: true,
      ldap: true,
      emails: [{ address: `ghost${ghost}@example.org`, verified: true }],
      abacAttributes: [{ key: 'department', values: ['gone'] }],
    })) as never[],
  );
  await models.rooms.collection.insertMany(
    Array.from({ length: LEGACY_ROOMS }, (_, room) => ({
      _id: `bench-legacy-${room}`,
      t: 'p',
      name: `legacy-${room}`,
      usersCount: 0,
      abacAttributes: [{ key: 'department', values: ['legacy'] }],
    })) as never[],
  );
}
