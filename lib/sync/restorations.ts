import type { AbacAttribute } from './abac-attribute';
import { satisfies } from './attribute-mapping';
import type { RoomRestoration } from './room-member-restorer';
import type { KnownRooms } from './sync-plan';
import type { AuditOutbox } from './sync-store';
import type { Restorable } from './undo-record';

// Pure decisions about giving memberships back (undo): which of a plan's restorations to begin now, and
// which ones a user's outbox says were begun and must be completed. No I/O here.

/**
 * The restorations to begin for a user moving to `next`: those whose room admits `next` (a room that is not
 * ABAC-managed, or no longer, admits anyone), that the user is not listed in already, and that no restore
 * waiting in their outbox has begun (an apply started again completes that one instead).
 */
export function restorationsToBegin(
  restore: readonly Restorable[],
  next: readonly AbacAttribute[],
  user: { rooms: readonly string[]; outbox: AuditOutbox | undefined },
  rooms: KnownRooms,
): Restorable[] {
  const listed = new Set(user.rooms);
  const begun = new Set(
    Object.values(user.outbox ?? {}).flatMap(({ undo }) =>
      undo?.kind === 'membershipRestored' ? [undo.subscription._id] : [],
    ),
  );
  return restore.filter(({ room, subscription }) => {
    if (listed.has(room._id) || begun.has(subscription._id)) return false;
    const abacRoom = rooms.get(room._id);
    return !abacRoom || satisfies(next, abacRoom.abacAttributes);
  });
}

/**
 * The restorations a user's outbox says were begun (their events wait there), each to be completed, by
 * the admin its event names.
 */
export function begunRestorations(
  user: { _id: string; username: string },
  outbox: AuditOutbox | undefined,
): RoomRestoration[] {
  return Object.values(outbox ?? {}).flatMap(({ _id, actor, undo }) => {
    if (undo?.kind !== 'membershipRestored') return [];
    const by = actor.type === 'user' && actor._id && actor.username ? actor : user;
    return [
      {
        user,
        room: undo.room,
        subscription: undo.subscription,
        restoreId: _id,
        actor: { _id: by._id!, username: by.username! },
      },
    ];
  });
}
