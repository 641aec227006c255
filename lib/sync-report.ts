import type { AbacAttribute } from '../models/user';
import type { Caller } from './caller';
import type { IdentifierList, Identifiers } from './sync-request';

export type UserSyncStatus = 'updated' | 'cleared' | 'unchanged' | 'notFoundInLdap' | 'failed';

export interface RevokedRoom {
  _id: string;
  name: string;
}

export interface UserSyncResult {
  _id: string;
  username: string;
  status: UserSyncStatus;
  added?: AbacAttribute[];
  removed?: AbacAttribute[];
  roomsRevoked?: RevokedRoom[];
  error?: string;
}

export interface SyncSummary {
  /** Identifiers named in the request, all lists together. */
  requested: number;
  /** Distinct active users they matched. */
  matched: number;
  updated: number;
  cleared: number;
  unchanged: number;
  notFoundInLdap: number;
  failed: number;
  roomsRevoked: number;
}

export interface SyncReport {
  success: true;
  dryRun: boolean;
  summary: SyncSummary;
  users: UserSyncResult[];
  unmatched: Record<IdentifierList, string[]>;
}

export interface SyncRequest {
  identifiers: Identifiers;
  dryRun: boolean;
  caller: Caller;
  requestId: string;
}

/** What the route hands a validated request to; implemented by AbacLdapSyncService. */
export interface UsersSyncService {
  sync(request: SyncRequest): Promise<SyncReport>;
}
