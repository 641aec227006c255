import type { AbacAttribute } from '../../models/user';
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
}
