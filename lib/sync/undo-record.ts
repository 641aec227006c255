import type { AbacAttribute } from './abac-attribute';

/** A subscription exactly as the chat server stored it: an eviction keeps it whole, so undo can put it back. */
export interface StoredSubscription {
  _id: string;
  rid: string;
  u: { _id: string; username?: string };
  [field: string]: unknown;
}

/** A membership an undo plan gives back: the room, and the subscription as it was when it ended. */
export interface Restorable {
  room: { _id: string; name: string };
  subscription: StoredSubscription;
}

/**
 * What undo needs to take one audited change back. It rides in the user's outbox beside its event and is
 * copied to the undo journal with it, never to the audit trail: the chat server's events record only the
 * diff, and the journal keeps what it holds for a limited time.
 */
export type UndoRecord = { changeSet: string; userId: string; username: string } & (
  | { kind: 'attributes'; before: AbacAttribute[]; after: AbacAttribute[] }
  | {
      /** The subscription ended, whole; undone, the same subscription is put back. */
      kind: 'membershipEnded';
      room: { _id: string; name: string };
      subscription: StoredSubscription;
    }
  | {
      /** The subscription undo put back, as put back; undone, it is ended again. */
      kind: 'membershipRestored';
      room: { _id: string; name: string };
      subscription: StoredSubscription;
    }
);
