import { z } from 'zod';
import type { AbacAttribute } from '../sync/abac-attribute';
import { abacAttributeSchema, revokedRoomSchema } from '../sync/sync-report';
import type { RevokedRoom, UserSyncStatus } from '../sync/sync-report';

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
  /** Set when an apply of this plan skipped the user: their value changed after the plan was made. */
  stale?: boolean;
}

/** One planned change as the review route shows it. */
export const plannedChangeSchema = z
  .object({
    _id: z.string().meta({ description: 'The user id.' }),
    username: z.string(),
    status: z.enum(['updated', 'cleared', 'unchanged']),
    added: z.array(abacAttributeSchema).optional(),
    removed: z.array(abacAttributeSchema).optional(),
    roomsRevoked: z.array(revokedRoomSchema),
    stale: z.literal(true).optional().meta({
      description:
        'Applying this plan skipped the user: their value had changed since the plan was made (nothing written).',
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
    ...(change.stale ? { stale: true as const } : {}),
  };
}
