import { z } from 'zod';
import type { SyncActor } from './audit-events';
import type { Identifiers } from './sync-request';

// The 200 body, as zod schemas: the OpenAPI document is generated from them, and tests check real answers
// against them. The TypeScript types are inferred, so the code and the document cannot drift apart.

export const abacAttributeSchema = z
  .object({ key: z.string(), values: z.array(z.string()) })
  .meta({ id: 'AbacAttribute', description: 'One ABAC attribute: a key and its values.' });

export const userSyncStatusSchema = z
  .enum(['updated', 'cleared', 'unchanged', 'notFoundInLdap', 'failed'])
  .meta({ id: 'UserSyncStatus' });

export const revokedRoomSchema = z.object({ _id: z.string(), name: z.string() }).meta({ id: 'RevokedRoom' });

export const userSyncResultSchema = z
  .object({
    _id: z.string(),
    username: z.string(),
    status: userSyncStatusSchema,
    added: z.array(abacAttributeSchema).optional().meta({ description: 'Values gained, per key.' }),
    removed: z.array(abacAttributeSchema).optional().meta({ description: 'Values lost, per key.' }),
    roomsRevoked: z
      .array(revokedRoomSchema)
      .optional()
      .meta({ description: 'ABAC rooms the user was removed from (would be, in a dry run).' }),
    roomsRestored: z
      .array(revokedRoomSchema)
      .optional()
      .meta({ description: 'Rooms given back to the user, each with the subscription it had (an undo).' }),
    error: z
      .enum([
        'error-ldap-ambiguous-entry',
        'error-ldap-entry-shared',
        'error-user-not-ldap',
        'error-write-conflict',
      ])
      .optional()
      .meta({ description: 'Why a user is `failed`.' }),
  })
  .meta({ id: 'UserSyncResult' });

const count = z.int().nonnegative();

export const syncSummarySchema = z
  .object({
    requested: count.meta({ description: 'Identifiers named in the request, all lists together.' }),
    matched: count.meta({ description: 'Distinct active users they matched.' }),
    updated: count,
    cleared: count,
    unchanged: count,
    notFoundInLdap: count,
    failed: count,
    roomsRevoked: count,
  })
  .meta({ id: 'SyncSummary' });

export function emptySummary(): SyncSummary {
  return {
    requested: 0,
    matched: 0,
    updated: 0,
    cleared: 0,
    unchanged: 0,
    notFoundInLdap: 0,
    failed: 0,
    roomsRevoked: 0,
  };
}

const unmatchedList = z.array(z.string());

/** What a sync reports: the domain's answer, the same for a request and a job. */
export const syncReportSchema = z
  .object({
    dryRun: z.boolean(),
    summary: syncSummarySchema,
    users: z.array(userSyncResultSchema).meta({
      description: 'One per matched user, in username order (ties by id): a preview and its apply alike.',
    }),
    unmatched: z
      .object({ usernames: unmatchedList, ids: unmatchedList, emails: unmatchedList, ldapIds: unmatchedList })
      .meta({ description: 'Identifiers of each list that matched no active user.' }),
  })
  .meta({ id: 'SyncReport' });

/** The 200 body of the route: the report inside the API's envelope. */
export const syncResponseSchema = syncReportSchema
  .extend({ success: z.literal(true) })
  .meta({ id: 'SyncResponse' });

export type UserSyncStatus = z.infer<typeof userSyncStatusSchema>;
export type RevokedRoom = z.infer<typeof revokedRoomSchema>;
export type UserSyncResult = z.infer<typeof userSyncResultSchema>;
export type SyncSummary = z.infer<typeof syncSummarySchema>;
export type SyncReport = z.infer<typeof syncReportSchema>;
export type SyncResponse = z.infer<typeof syncResponseSchema>;

export interface SyncRequest {
  identifiers: Identifiers;
  dryRun: boolean;
  /** Recorded as the audit actor. */
  actor: SyncActor;
  requestId: string;
  /** Recorded as the audit reason (default `ldap-sync`). */
  reason?: string;
  /**
   * The sync resolves once the audit events are copied; their removal from the users' outboxes follows,
   * tracked (see PlanApplier). For a caller waiting to answer someone.
   */
  clearOutboxesLater?: boolean;
  /**
   * Resolves once the caller's answer is sent: the deferred removal starts then, so it never competes with
   * sending the answer. Absent: it starts at once.
   */
  answered?: Promise<unknown>;
}

/** What the route hands a validated request to; implemented by AbacLdapSyncService. */
export interface UsersSyncService {
  sync(request: SyncRequest): Promise<SyncReport>;
  /**
   * Begins the reads of a sync of these identifiers, writing nothing (a route may begin them while its caller
   * is still being admitted); the caller then finishes or abandons them.
   */
  begin(identifiers: Identifiers): BegunSync;
}

/** A sync's reads, begun before its caller may have been admitted. */
export interface BegunSync {
  /** The sync of the identifiers begun with, on those reads; their errors are thrown here, as the sync's. */
  finish(request: Omit<SyncRequest, 'identifiers'>): Promise<SyncReport>;
  /** Drops the reads, closing the directory session they opened (nothing was written). */
  abandon(): Promise<void>;
}
