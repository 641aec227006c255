import type { AbacAttribute, Models } from '../models';
import { generatedDepartment, generatedUid } from '../harness/fixtures';
import type { Slapd } from '../harness/slapd';
import { hashLoginToken } from '../lib/access/authenticator';

/** The admin the bench's requests sign in as. */
export const ADMIN = { id: 'bench-admin', token: 'bench-admin-token' };

/** 100,000 unless BENCH_SIZE says otherwise (at least 3,000: the workloads use users up to #2,299). */
export const DIRECTORY_SIZE = Math.max(3_000, Number(process.env.BENCH_SIZE ?? 100_000));
export const LEGACY_ROOMS = 10;
export const MAP = { departmentNumber: 'department', employeeType: 'employeeType' };
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

/** `size` users (default DIRECTORY_SIZE) matching the directory, all in sync with it to begin with. */
export async function seedUsers(models: Models, size = DIRECTORY_SIZE): Promise<void> {
  const batch = 5000;
  for (let first = 0; first < size; first += batch) {
    await models.users.collection.insertMany(
      Array.from({ length: Math.min(batch, size - first) }, (_, offset) => {
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

/** The admin the benchmark calls as, and the settings that point the host at `slapd`. */
export async function seedAdminAndSettings(models: Models, slapd: Slapd) {
  const info = slapd.info();
  await models.roles.collection.insertOne({ _id: 'admin', name: 'admin', scope: 'Users' } as never);
  await models.users.collection.insertOne({
    _id: ADMIN.id,
    username: 'bench-admin',
    active: true,
    roles: ['admin'],
    services: { resume: { loginTokens: [{ hashedToken: hashLoginToken(ADMIN.token), when: new Date() }] } },
  } as never);
  const settings: Record<string, unknown> = {
    ABAC_Enabled: true,
    LDAP_Enable: true,
    LDAP_Host: '127.0.0.1',
    LDAP_Port: info.port,
    LDAP_Authentication: true,
    LDAP_Authentication_UserDN: info.serviceDN,
    LDAP_Authentication_Password: info.servicePassword,
    LDAP_BaseDN: info.baseDN,
    LDAP_User_Search_Field: 'uid',
    LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)',
    LDAP_ABAC_AttributeMap: JSON.stringify(MAP),
  };
  await models.settings.collection.insertMany(
    Object.entries(settings).map(([_id, value]) => ({ _id, value })) as never[],
  );
  return settings;
}
