import type { AbacAttribute } from './abac-attribute';
import {
  diffAttributes,
  mapEntry,
  sameAttributes,
  satisfies,
  type AttributeMapping,
} from './attribute-mapping';
import { ACTION_PERFORMED_EVENT } from './audit-events';
import type { EntryMatch } from './entry-lookup';
import { MappingMatchesNothingError } from '../errors';
import {
  emptySummary,
  type SyncReport,
  type SyncRequest,
  type SyncSummary,
  type UserSyncResult,
} from './sync-report';
import type { AbacRoom, AuditOutbox, SyncSubject } from './sync-store';
import type { Restorable } from './undo-record';

// Pure decisions of a sync: what each user's attributes become, which rooms they must leave, and the report.
// No I/O here; the service reads and writes around these functions.

/** What the sync decided for one user before writing anything. */
export interface Plan {
  subject: SyncSubject;
  result: UserSyncResult;
  /** The attributes the directory gives the user; undefined when the entry was not read (not found, failed). */
  next?: AbacAttribute[];
  /**
   * Set when applying a staged plan (a run's own, or one an admin reviewed): the value it was made from.
   * Under the claim, a user holding neither this nor `next` was changed since, and is left alone (`stale`).
   */
  reviewedBefore?: AbacAttribute[];
  /** Set by the engine: the user was changed since the reviewed plan, and nothing was written for them. */
  stale?: boolean;
  /** Memberships to give back (an undo's plan), begun once `next` is written, where `next` admits them. */
  restore?: Restorable[];
}

/** Rooms looked up so far: null for a room that is not ABAC-managed or is gone. */
export type KnownRooms = Map<string, AbacRoom | null>;

export function identity(subject: { _id: string; username: string }) {
  return { _id: subject._id, username: subject.username };
}

/** A subject's entry as planning needs it: the mapped attributes of its one entry, or why there is none. */
export type ResolvedMatch =
  | { kind: 'found'; next: AbacAttribute[] }
  | { kind: 'notFound' }
  | { kind: 'ambiguous' }
  | { kind: 'shared' };

/** Maps a looked-up entry (the mapping is the only thing planning needs of it). */
export function resolveMatch(match: EntryMatch | undefined, mapping: AttributeMapping): ResolvedMatch {
  if (!match) return { kind: 'notFound' };
  return match.kind === 'found' ? { kind: 'found', next: mapEntry(match.entry, mapping) } : match;
}

export function planUser(
  subject: SyncSubject,
  match: EntryMatch | undefined,
  mapping: AttributeMapping,
): Plan {
  return planResolved(subject, resolveMatch(match, mapping));
}

export function planResolved(subject: SyncSubject, match: ResolvedMatch): Plan {
  const failed = (error: NonNullable<UserSyncResult['error']>): Plan => ({
    subject,
    result: { ...identity(subject), status: 'failed', error },
  });
  if (!subject.fromLdap) return failed('error-user-not-ldap');
  if (match.kind === 'notFound')
    return { subject, result: { ...identity(subject), status: 'notFoundInLdap' } };
  if (match.kind === 'ambiguous') return failed('error-ldap-ambiguous-entry');
  if (match.kind === 'shared') return failed('error-ldap-entry-shared');
  const { next } = match;
  return { subject, next, result: resultOfChange(subject, subject.storedAttributes, next) };
}

/** The result of moving a user from `before` to `next`: unchanged, or updated / cleared with the diff. */
export function resultOfChange(
  subject: { _id: string; username: string },
  before: readonly AbacAttribute[],
  next: readonly AbacAttribute[],
): UserSyncResult {
  if (sameAttributes(before, next)) return { ...identity(subject), status: 'unchanged' };
  const status = next.length === 0 ? 'cleared' : 'updated';
  return { ...identity(subject), status, ...diffAttributes(before, next) };
}

/**
 * Several entries found, none with a mapped value, while their users hold attributes: the map or the bind
 * account is broken, and writing would clear everyone. A single user may still be cleared.
 */
export function refuseMappingThatMatchesNothing(
  subjects: readonly SyncSubject[],
  matches: ReadonlyMap<string, ResolvedMatch>,
  mapping: AttributeMapping,
): void {
  const found = subjects.flatMap((subject) => {
    const match = matches.get(subject._id);
    return match?.kind === 'found' ? [{ subject, next: match.next }] : [];
  });
  if (found.length < 2) return;
  if (found.some(({ next }) => next.length > 0)) return;
  if (!found.some(({ subject }) => subject.storedAttributes.length > 0)) return;
  throw new MappingMatchesNothingError(mapping.namesAsGiven, found.length);
}

/**
 * The rooms a user must leave: every ABAC room they are listed in whose attributes `next` does not
 * satisfy, whether or not their attributes change now (so an eviction cut short is finished), and every
 * room whose removal was begun (its revocation is in the user's audit outbox) even if they qualify again.
 */
export function roomsToLeave(
  memberOf: readonly string[],
  next: readonly AbacAttribute[],
  rooms: KnownRooms,
  outbox: AuditOutbox | undefined,
): AbacRoom[] {
  const begun = revokedRoomIds(outbox);
  return [...new Set(memberOf)]
    .map((roomId) => rooms.get(roomId))
    .filter(
      (room): room is AbacRoom => !!room && (begun.has(room._id) || !satisfies(next, room.abacAttributes)),
    );
}

/** Rooms whose revocation events wait in an outbox (not those given back: undo's grants). */
export function revokedRoomIds(outbox: AuditOutbox | undefined): Set<string> {
  const roomIds = new Set<string>();
  for (const event of Object.values(outbox ?? {})) {
    if (event.t !== ACTION_PERFORMED_EVENT) continue;
    const value = (key: string) => event.data.find((item) => item.key === key)?.value;
    if (value('action') === 'granted-object-access') continue;
    const object = value('object') as { _id?: string } | undefined;
    if (object?._id) roomIds.add(object._id);
  }
  return roomIds;
}

/**
 * Whether a reviewed plan no longer holds for a user: their stored value is neither the one the plan was made
 * from nor the one it leads to (holding `next` already means the plan's change is there: this apply made it
 * before an interruption, or another writer reached the same value, and the rest of the plan still applies).
 */
export function isStale(plan: Plan, stored: readonly AbacAttribute[]): boolean {
  if (plan.reviewedBefore === undefined) return false;
  return !sameAttributes(stored, plan.reviewedBefore) && !sameAttributes(stored, plan.next ?? []);
}

/** Whether the sync must take the user's claim: a change to write, a room to leave, or audit to copy. */
export function needsClaim(plan: Plan, rooms: KnownRooms): plan is Plan & { next: AbacAttribute[] } {
  if (plan.next === undefined) return false;
  const { subject } = plan;
  return (
    plan.result.status !== 'unchanged' ||
    Object.keys(subject.outbox ?? {}).length > 0 ||
    roomsToLeave(subject.rooms, plan.next, rooms, subject.outbox).length > 0
  );
}

export function report(
  request: SyncRequest,
  results: readonly UserSyncResult[],
  unmatched: SyncReport['unmatched'],
): SyncReport {
  const summary: SyncSummary = {
    ...emptySummary(),
    requested: Object.values(request.identifiers).reduce((total, list) => total + (list?.length ?? 0), 0),
    matched: results.length,
  };
  for (const result of results) {
    summary[result.status] += 1;
    summary.roomsRevoked += result.roomsRevoked?.length ?? 0;
  }
  return {
    dryRun: request.dryRun,
    summary,
    users: [...results].sort(byUsername),
    unmatched,
  };
}

/** A report's order: username, then id (code unit order: upper case first), the same in a preview and its apply. */
function byUsername(a: UserSyncResult, b: UserSyncResult): number {
  if (a.username !== b.username) return a.username < b.username ? -1 : 1;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

/** roomsRevoked is reported for every user who lost a value, and for anyone who left a room. */
export function withRoomsRevoked(result: UserSyncResult, revoked: readonly { _id: string; name: string }[]) {
  if (!result.removed?.length && revoked.length === 0) return result;
  return { ...result, roomsRevoked: revoked.map((room) => ({ _id: room._id, name: room.name })) };
}
