import { z } from 'zod';
import type { AbacAttribute } from '../sync/abac-attribute';
import { abacAttributeSchema, revokedRoomSchema } from '../sync/sync-report';
import type { RevokedRoom, UserSyncStatus } from '../sync/sync-report';
import type { Restorable } from '../sync/undo-record';

/**
 * One user's change as a run planned it: what the user held when planned, what the directory gives them,
 * and the rooms they would leave. Applying re-reads the user under the claim; this is what was reviewed.
 */
export interface StagedChange {
  jobId: string;
  userId: string;
  username: string;
  /** The planned result: updated, cleared, or unchanged (rooms to leave or audit to finish only). */
  status: UserSyncStatus;
  before: AbacAttribute[];
  next: AbacAttribute[];
  added?: AbacAttribute[];
  removed?: AbacAttribute[];
  roomsRevoked: RevokedRoom[];
  /** An undo's plan: the memberships given back, each with its subscription as it was when it ended. */
  restore?: Restorable[];
  /** An undo's plan: memberships it ended that are not given back, and why. */
  roomsNotRestored?: NotRestoredRoom[];
  /**
   * Set when an apply of this plan skipped the user: their value changed after the plan was made. An undo's
   * plan sets it from the start on users changed since the change set it takes back.
   */
  stale?: boolean;
}

/** A membership an undo does not give back: the room is gone, or no longer admits the user's values. */
export interface NotRestoredRoom {
  _id: string;
  name: string;
  reason: 'room-gone' | 'not-satisfied';
}

const notRestoredRoomSchema = z
  .object({
    _id: z.string(),
    name: z.string(),
    reason: z.enum(['room-gone', 'not-satisfied']).meta({
      description:
        "room-gone: the room was deleted; not-satisfied: the room's attributes changed and the restored values no longer admit the user.",
    }),
  })
  .meta({ id: 'NotRestoredRoom' });

/** One planned change as the review route shows it. */
export const plannedChangeSchema = z
  .object({
    _id: z.string().meta({ description: 'The user id.' }),
    username: z.string(),
    status: z.enum(['updated', 'cleared', 'unchanged']),
    added: z.array(abacAttributeSchema).optional(),
    removed: z.array(abacAttributeSchema).optional(),
    roomsRevoked: z.array(revokedRoomSchema),
    roomsRestored: z
      .array(revokedRoomSchema)
      .optional()
      .meta({ description: "An undo's plan: rooms given back, each with the subscription the user had." }),
    roomsNotRestored: z
      .array(notRestoredRoomSchema)
      .optional()
      .meta({ description: "An undo's plan: memberships it ended that are not given back." }),
    stale: z
      .literal(true)
      .optional()
      .meta({
        description:
          'Applying this plan skipped the user: their value had changed since the plan was made (nothing written). ' +
          "In an undo's plan: changed since the change set, by anyone; left alone.",
      }),
  })
  .meta({ id: 'PlannedChange' });

export type PlannedChange = z.infer<typeof plannedChangeSchema>;

export function plannedChangeView(change: StagedChange): PlannedChange {
  return {
    _id: change.userId,
    username: change.username,
    status: change.status as PlannedChange['status'],
    ...(change.added ? { added: change.added } : {}),
    ...(change.removed ? { removed: change.removed } : {}),
    roomsRevoked: change.roomsRevoked,
    ...(change.restore?.length ? { roomsRestored: change.restore.map(({ room }) => room) } : {}),
    ...(change.roomsNotRestored?.length ? { roomsNotRestored: change.roomsNotRestored } : {}),
    ...(change.stale ? { stale: true as const } : {}),
  };
}
