import { generatedDepartment, generatedUid } from '../../harness/fixtures';
import type { Models } from '../../models';

export const LEGACY_ROOM = 'r-legacy';
const ATTRIBUTE_CHANGED = 'abac.subject.attribute.changed';
const REVOKED = 'abac.action.performed';

export const legacyUserId = (index: number) => `id-${String(index).padStart(3, '0')}`;

/**
 * `count` LDAP users (the generated people 0..count-1) who hold a department value the directory no longer
 * has and sit in the room that value grants: a completed sync of them writes, evicts, posts and audits for
 * every one.
 */
export async function seedLegacyRoom(
  models: Models,
  count: number,
  { userId = legacyUserId, emails = false }: { userId?: (index: number) => string; emails?: boolean } = {},
) {
  await models.rooms.create({
    _id: LEGACY_ROOM,
    t: 'p',
    name: 'legacy',
    usersCount: count,
    abacAttributes: [{ key: 'department', values: ['legacy'] }],
  });
  await models.users.insertMany(
    Array.from({ length: count }, (_, index) => ({
      _id: userId(index),
      username: generatedUid(index),
      active: true,
      ldap: true,
      ...(emails ? { emails: [{ address: `${generatedUid(index)}@example.org`, verified: true }] } : {}),
      abacAttributes: [{ key: 'department', values: ['legacy'] }],
      __rooms: [LEGACY_ROOM],
    })),
  );
  await models.subscriptions.insertMany(
    Array.from({ length: count }, (_, index) => ({
      _id: `s-${index}`,
      rid: LEGACY_ROOM,
      u: { _id: userId(index), username: generatedUid(index) },
    })),
  );
}

/** Every seeded user at the directory's value and out of the room, each change and eviction recorded once. */
export async function expectLegacyRoomSyncedOnce(models: Models, count: number) {
  const users = await models.users.find({ ldap: true }).lean();
  expect(users).toHaveLength(count);
  for (const user of users) {
    const index = Number(user.username!.replace('user', ''));
    expect(user.abacAttributes).toEqual([{ key: 'department', values: [generatedDepartment(index)] }]);
    expect(user.__rooms).toEqual([]);
    expect(user.__abacAuditOutbox ?? {}).toEqual({});
  }
  expect(await models.subscriptions.countDocuments()).toBe(0);
  expect((await models.rooms.findById(LEGACY_ROOM).lean())?.usersCount).toBe(0);
  expect(await models.serverEvents.countDocuments({ t: ATTRIBUTE_CHANGED })).toBe(count);
  expect(await models.serverEvents.countDocuments({ t: REVOKED })).toBe(count);
  expect(await models.messages.countDocuments()).toBe(count);
}
