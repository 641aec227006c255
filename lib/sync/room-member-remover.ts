/** The room member remover port: how the sync takes users out of rooms. */

export interface RoomRemoval {
  user: { _id: string; username: string };
  room: { _id: string; name: string };
  /**
   * The user's subscriptions to the room, found while the user was claimed. Empty when `__rooms` names a
   * room the user has no subscription to: then only that list is repaired, and nothing is reported.
   */
  subscriptionIds: string[];
  /**
   * What names each subscription's eviction, in the same order: its id, or for a subscription undo put back,
   * its id with that restore's (an eviction's record, message and event are keyed by it, once each).
   */
  evictionKeys: string[];
}

/** The field undo sets on a subscription it puts back: the restore's id, so its next eviction is new. */
export const RESTORED_FIELD = '__abacRestored';

/** The key of a subscription's eviction (see RoomRemoval.evictionKeys). */
export function evictionKey(subscription: { _id: string; [field: string]: unknown }): string {
  const restored = subscription[RESTORED_FIELD];
  return typeof restored === 'string' ? `${subscription._id}~${restored}` : subscription._id;
}

/** Takes users out of rooms. A host with its own room service supplies its own implementation. */
export interface RoomMemberRemover {
  /**
   * Carries out the removals and resolves with those that ended a membership. Must be idempotent: after a
   * fault the next sync calls it again with the same removals (those whose subscription still exists, or
   * whose room is still in `__rooms`), and it completes what is missing without repeating what was done.
   */
  remove(removals: readonly RoomRemoval[]): Promise<RoomRemoval[]>;
}
