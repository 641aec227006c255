import type { OutboxEvent } from './audit-events';
import type { AbacAttribute } from './abac-attribute';
import type { IdentifierList, Identifiers } from './sync-request';
import type { StoredSubscription } from './undo-record';

// The store port: everything the sync engine reads and writes besides the directory and the room member
// remover. The MongoDB adapter lives in mongo/; tests also use an in-memory one.

/** A user as the sync needs it; read once, compared against when writing. */
export interface SyncSubject {
  _id: string;
  username: string;
  emails: string[];
  /** As stored when the sync read the user ([] when absent). */
  storedAttributes: AbacAttribute[];
  rooms: string[];
  /** The stored identifier: hex of the raw bytes, and the attribute it came from when the user names it. */
  ldap: { id: string; idAttribute: string | undefined } | undefined;
  /** `ldap: true`: only users the directory provisioned are given its attributes. */
  fromLdap: boolean;
  /** Audit events not yet copied to the audit trail (left by an interrupted sync). */
  outbox: AuditOutbox | undefined;
  /**
   * The attributes and rooms exactly as stored (absent stays undefined), when the store read them: a write
   * conditioned on them may then be made without the user's claim. Without it, writes wait for the claim.
   */
  asStored?: { attributes: AbacAttribute[] | undefined; rooms: string[] | undefined };
}

/** What a user is found in the directory by: their stored identifier, or else their username. */
export type SubjectIdentifiers = Pick<SyncSubject, '_id' | 'username' | 'ldap'>;

export interface SubjectLookup {
  subjects: SyncSubject[];
  unmatched: Record<IdentifierList, string[]>;
}

/** Audit events waiting on a user, by event id. */
export type AuditOutbox = Record<string, OutboxEvent>;
/** Outboxes by user id. */
export type Outboxes = Map<string, AuditOutbox>;

/** An ABAC-managed room (non-empty attributes). */
export interface AbacRoom {
  _id: string;
  name: string;
  abacAttributes: AbacAttribute[];
}

/** A user as stored now: re-read under a claim, or read just before a write made without one. */
export interface StoredUser {
  _id: string;
  /** As stored: undefined when the user has no attributes field (a conditional write tells the two apart). */
  attributes: AbacAttribute[] | undefined;
  rooms: string[];
  /** The rooms field exactly as stored (absent: undefined), for a write conditioned on it. */
  roomsAsStored: string[] | undefined;
  outbox: AuditOutbox | undefined;
}

/** One user's write, made only if the user still holds `before` (the value read under the claim). */
export interface ConditionalWrite {
  userId: string;
  before: AbacAttribute[] | undefined;
  /** The attributes to store; empty removes them. Undefined leaves them as they are. */
  next: AbacAttribute[] | undefined;
  /** Audit events stored in the same update. */
  outbox: AuditOutbox;
  /**
   * Set for a write made without the user's claim: it then also requires the user to hold exactly these
   * rooms (as stored, absent: undefined) and no waiting audit events, so it applies only to the state it
   * was planned on.
   */
  unclaimed?: { rooms: string[] | undefined };
}

export interface WriteOutcome {
  applied: string[];
  /** The user changed after it was read: nothing was written for them. */
  lost: string[];
}

/** Work done while users are claimed; resolves with the users to try again under a new claim. */
export type ClaimedWork = (claimed: string[]) => Promise<{ retry: string[] }>;

export interface SyncStore {
  /** Active users by the request's identifiers, and the identifiers that matched nobody. */
  findSubjects(identifiers: Identifiers): Promise<SubjectLookup>;
  /** How many active users have `ldap: true` (a directory-wide run's users). */
  countLdapSubjects(): Promise<number>;
  /**
   * Every active user with `ldap: true` whose id sorts after `afterUserId`, in `_id` order, in batches of
   * `batchSize`: a directory-wide run never holds all of them at once.
   */
  ldapSubjects(afterUserId: string | undefined, batchSize: number): AsyncIterable<SyncSubject[]>;
  /**
   * The identifiers of every active user with `ldap: true`, in batches of `batchSize`: a directory-wide run
   * that reads the whole directory counts which entry is whose before it plans anyone.
   */
  ldapSubjectIdentifiers(batchSize: number): AsyncIterable<SubjectIdentifiers[]>;
  /**
   * The attributes that active users with `ldap: true` have their identifiers stored under, each once: what a
   * read of the whole directory asks for, so that it can begin before those users are read.
   */
  ldapIdentifierAttributes(): Promise<string[]>;
  /** The ABAC-managed rooms among these ids (the others are left out). */
  findAbacRooms(roomIds: readonly string[]): Promise<AbacRoom[]>;
  /** The subscriptions, whole, of each (room, user) pair that has any, keyed by `membershipKey`. */
  findMemberships(
    pairs: readonly { userId: string; roomId: string }[],
  ): Promise<Map<string, StoredSubscription[]>>;
  /**
   * Runs `work` over the users in claimed groups (one holder per user across processes) until all are done
   * or the wait budget is spent; resolves with the users never claimed within it. `holder` names a holder
   * that outlives a process (a directory-wide run): claims it left behind when its process died are its own
   * again at once. Without it, every attempt is a holder of its own.
   */
  runClaimed(userIds: readonly string[], work: ClaimedWork, holder?: string): Promise<string[]>;
  /** Which of these users some sync holds a claim on now (their writes wait for the claim). */
  findClaimed(userIds: readonly string[]): Promise<Set<string>>;
  /** Reads users as they are stored now, claimed or not (users gone are left out). */
  readUsers(userIds: readonly string[]): Promise<StoredUser[]>;
  /** Writes attributes and outbox events together, each only if the user still holds `before`. */
  writeIfUnchanged(writes: readonly ConditionalWrite[], stamp: Date): Promise<WriteOutcome>;
  /**
   * Copies the outboxes' events to the audit trail and their undo records to the undo journal, each once (an
   * event copied before is not copied again); resolves with the events stored, by user. Those that could not
   * be stored in both are left out: they stay in their outboxes for a later sync.
   */
  copyAudit(outboxes: Outboxes, requestId: string): Promise<Outboxes>;
  /**
   * Removes copied events from their users' outboxes, and only those. Until it runs, the next sync of such a
   * user finds the events there and copies none of them twice.
   */
  clearOutboxes(copied: Outboxes): Promise<void>;
}

export function membershipKey(roomId: string, userId: string): string {
  return `${roomId}/${userId}`;
}
