import { testServers } from '../../harness/test-servers';
import type { Models } from '../../models';

const ENGINEERING = `cn=engineering,ou=groups,${testServers().ldap.baseDN}`;

/** bob's values before a sync: the directory no longer gives him eng-platform (nor contractor). */
export const BOB_BEFORE = [
  { key: 'department', values: ['eng', 'eng-platform'] },
  { key: 'employeeType', values: ['contractor'] },
  { key: 'groups', values: [ENGINEERING] },
];

/** bob's subscription to platform as the chat server keeps it: read state, roles, preferences. */
export const BOB_PLATFORM = {
  _id: 's-bob-platform',
  rid: 'r-platform',
  u: { _id: 'u-bob', username: 'bob' },
  t: 'p',
  name: 'platform',
  ts: new Date('2026-01-05T09:00:00Z'),
  ls: new Date('2026-12-01T17:30:00Z'),
  unread: 4,
  alert: true,
  roles: ['moderator'],
  disableNotifications: false,
};

/**
 * bob, an LDAP user holding BOB_BEFORE, a member of platform (which asks for eng-platform, 3 members)
 * through BOB_PLATFORM: a sync of bob takes that value and that membership away.
 */
export async function seedBobInPlatform(models: Models): Promise<void> {
  await models.users.create({
    _id: 'u-bob',
    username: 'bob',
    active: true,
    ldap: true,
    roles: ['user'],
    emails: [{ address: 'bob@example.org', verified: true }],
    abacAttributes: BOB_BEFORE,
    __rooms: ['r-platform'],
  });
  await models.rooms.create({
    _id: 'r-platform',
    t: 'p',
    name: 'platform',
    usersCount: 3,
    abacAttributes: [{ key: 'department', values: ['eng-platform'] }],
  });
  await models.subscriptions.collection.insertOne({ ...BOB_PLATFORM } as never);
}
