/** The room member remover port: how the sync takes users out of rooms. */

export interface RoomRemoval {
  user: { _id: string; username: string };
  room: { _id: string; name: string };
  /**
   * The user's subscriptions to the room, found while the user was claimed. Empty when `__rooms` names a
   * room the user has no subscription to: then only that list is repaired, and nothing is reported.
   */
  subscriptionIds: string[];
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
