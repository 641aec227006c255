import { hashLoginToken } from '../lib/access/authenticator';
import type { AbacAttribute, Models } from '../models';

export const DEMO_ADMIN = { id: 'demo-admin', username: 'demo-admin', token: 'demo-admin-token' } as const;
export const DEMO_BASE_DN = 'dc=demo,dc=example';
export const DEMO_SERVICE = { dn: 'cn=abac-sync,dc=demo,dc=example', password: 'demo-sync-secret' } as const;
export const DEMO_USERNAMES = ['alice', 'bob', 'carol'] as const;

const DEMO_ROOM_IDS = ['demo-engineering', 'demo-security', 'demo-general'];
const attribute = (key: string, ...values: string[]): AbacAttribute => ({ key, values });

/**
 * Puts the demo's documents back as they were, so the printed curl always shows the same story:
 * alice is new to ABAC, bob moved from engineering to sales (he loses the engineering room), and carol
 * gains the security department (she keeps her room).
 */
export async function seedDemoData(models: Models, now: Date): Promise<void> {
  await models.roles.bulkWrite(
    ['admin', 'user'].map((_id) => ({
      updateOne: {
        filter: { _id },
        update: { $setOnInsert: { name: _id, scope: 'Users', protected: true } },
        upsert: true,
      },
    })),
  );
  const user = (_id: string, username: string, extra: { __rooms?: string[]; [field: string]: unknown }) => ({
    _id,
    username,
    name: username,
    active: true,
    ldap: true,
    roles: ['user'],
    emails: [{ address: `${username}@demo.example`, verified: true }],
    _updatedAt: now,
    ...extra,
  });
  const users = [
    // A local account, as chat admins often are: not a directory user a run would report as not found.
    user(DEMO_ADMIN.id, DEMO_ADMIN.username, {
      ldap: false,
      roles: ['admin'],
      services: { resume: { loginTokens: [{ hashedToken: hashLoginToken(DEMO_ADMIN.token), when: now }] } },
    }),
    user('demo-alice', 'alice', { __rooms: ['demo-general'] }),
    user('demo-bob', 'bob', {
      abacAttributes: [attribute('department', 'engineering'), attribute('employeeType', 'staff')],
      __rooms: ['demo-engineering', 'demo-general'],
    }),
    user('demo-carol', 'carol', {
      abacAttributes: [attribute('department', 'engineering'), attribute('employeeType', 'contractor')],
      __rooms: ['demo-engineering', 'demo-general'],
    }),
  ];
  const rooms = [
    room('demo-engineering', 'engineering', 2, [attribute('department', 'engineering')]),
    room('demo-security', 'security', 0, [attribute('department', 'security')]),
    room('demo-general', 'general', 3, undefined),
  ];
  const subscriptions = users.flatMap((member) =>
    (member.__rooms ?? []).map((rid: string) => ({
      _id: `${rid}-${member._id}`,
      rid,
      t: 'p',
      name: rid.replace('demo-', ''),
      u: { _id: member._id, username: member.username },
    })),
  );
  await Promise.all([
    models.users.bulkWrite(replaceAll(users)),
    models.rooms.bulkWrite(replaceAll(rooms)),
    models.subscriptions.deleteMany({ rid: { $in: DEMO_ROOM_IDS } }),
    models.messages.deleteMany({ rid: { $in: DEMO_ROOM_IDS } }),
  ]);
  await models.subscriptions.insertMany(subscriptions);
}

function room(_id: string, name: string, usersCount: number, abacAttributes: AbacAttribute[] | undefined) {
  return { _id, t: 'p', name, fname: name, usersCount, ...(abacAttributes ? { abacAttributes } : {}) };
}

function replaceAll<T extends { _id: string }>(documents: T[]) {
  return documents.map((document) => ({
    replaceOne: { filter: { _id: document._id }, replacement: document, upsert: true },
  }));
}

export const populationUsername = (index: number) => `person${String(index).padStart(5, '0')}`;

/** Directory entries of the generated population (departments cycle through seven values). */
export function generatedPopulation(count: number) {
  return Array.from({ length: count }, (_, index) => {
    const username = populationUsername(index);
    return {
      username,
      dn: `uid=${username},ou=people,${DEMO_BASE_DN}`,
      attributes: {
        objectClass: ['inetOrgPerson'],
        uid: [username],
        cn: [`Person ${index}`],
        sn: ['Person'],
        departmentNumber: [`dept-${index % 7}`],
        employeeType: [index % 2 === 0 ? 'staff' : 'contractor'],
      },
    };
  });
}

/** The generated population's users, with no attributes yet (their first sync writes them). */
export async function seedPopulation(models: Models, usernames: string[]): Promise<void> {
  if (usernames.length === 0) return;
  await models.users.bulkWrite(
    replaceAll(
      usernames.map((username, index) => ({
        _id: `demo-person-${index}`,
        username,
        active: true,
        ldap: true,
        roles: ['user'],
      })),
    ),
  );
}
