import type { StoredSubscription } from './undo-record';

/** One membership undo gives back: the subscription exactly as it was when it ended. */
export interface RoomRestoration {
  user: { _id: string; username: string };
  room: { _id: string; name: string };
  /** As stored when it ended; put back with the restore's id in RESTORED_FIELD. */
  subscription: StoredSubscription;
  /** The restore's id (its audit event's): the same however often the restore runs. */
  restoreId: string;
  /** Who gives it back, as the room's message names them (an admin applying an undo). */
  actor: { _id: string; username: string };
}

/** Gives users their room memberships back. A host with its own room service supplies its own. */
export interface RoomMemberRestorer {
  /**
   * Puts each subscription back as it was (plus the restore's id), counts it into the room's usersCount
   * once, posts the room's "user added" message and lists the room in the user's `__rooms`; resolves with
   * those restored. Must be idempotent, as removals are: after a fault the next sync of the user calls it
   * again with the same restorations and it completes what is missing. A room gone since, or one the user
   * holds another subscription to (joined again since), is left as it is and not resolved.
   */
  restore(restorations: readonly RoomRestoration[]): Promise<RoomRestoration[]>;
}
