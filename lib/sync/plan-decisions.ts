import { sameAttributes } from './attribute-mapping';
import type { AuditContext, AuditEvents } from './audit-events';
import { restorationsToBegin } from './restorations';
import type { RoomRemoval } from './room-member-remover';
import { identity, isStale, resultOfChange, type KnownRooms, type Plan } from './sync-plan';
import type { AuditOutbox, ConditionalWrite, StoredUser } from './sync-store';
import type { StoredSubscription } from './undo-record';

// What applying a plan decides before it writes anything, from the plans and the users as read; nothing
// here reads or writes a store. PlanApplier (plan-applier.ts) reads, claims and writes around it.

/**
 * One user as read (under their claim, or as first read), decided without writing anything or changing
 * the plan: the result from the value read, the audit events this sync adds to the user's outbox (a
 * change, one revocation per subscription to end and one grant per restore to begin, each unless already
 * there), and the conditional write that stores them, when there is anything to store.
 */
export function decideWrite(
  plan: Plan,
  user: StoredUser,
  removals: Removal[],
  rooms: KnownRooms,
  audit: AuditEvents,
  context: AuditContext,
): { result: Plan['result']; outbox: AuditOutbox; write: ConditionalWrite | undefined } {
  const next = plan.next ?? [];
  const changed = !sameAttributes(user.attributes ?? [], next);
  const result = resultOfChange(plan.subject, user.attributes ?? [], next);
  const newEvents: AuditOutbox = {};
  if (changed) {
    const change = {
      before: user.attributes ?? [],
      after: next,
      added: result.added ?? [],
      removed: result.removed ?? [],
    };
    const event = audit.attributesChanged(plan.subject, change, context);
    newEvents[event._id] = event;
  }
  for (const removal of removals) {
    for (const subscription of removal.subscriptions) {
      const event = audit.accessRevoked(removal.user, removal.room, subscription, context);
      if (!user.outbox?.[event._id]) newEvents[event._id] = event;
    }
  }
  for (const { room, subscription } of restorationsToBegin(plan.restore ?? [], next, user, rooms)) {
    const event = audit.accessGranted(identity(plan.subject), room, subscription, context);
    if (!user.outbox?.[event._id]) newEvents[event._id] = event;
  }
  const write: ConditionalWrite | undefined =
    changed || Object.keys(newEvents).length > 0
      ? {
          userId: user._id,
          before: user.attributes,
          next: changed ? next : undefined,
          outbox: newEvents,
        }
      : undefined;
  return { result, outbox: { ...user.outbox, ...newEvents }, write };
}

/** A removal with the subscriptions it ends, whole: their revocation events keep them for undo. */
export type Removal = RoomRemoval & { subscriptions: StoredSubscription[] };

/**
 * Whether a plan may be written without its user's claim: the store read the user's stored state, and no
 * audit events wait in the user's outbox. (A staged plan is judged stale against that same read.)
 */
export function writableUnclaimed(plan: Plan): boolean {
  const { subject } = plan;
  return subject.asStored !== undefined && Object.keys(subject.outbox ?? {}).length === 0;
}

/** The users with the rooms given back to them added (as their next read would find them). */
export function withRoomsAdded(
  users: ReadonlyMap<string, StoredUser>,
  added: ReadonlyMap<string, { _id: string }[]>,
): ReadonlyMap<string, StoredUser> {
  if (added.size === 0) return users;
  const updated = new Map(users);
  for (const [userId, rooms] of added) {
    const user = users.get(userId);
    if (user)
      updated.set(userId, { ...user, rooms: [...new Set([...user.rooms, ...rooms.map(({ _id }) => _id)])] });
  }
  return updated;
}

/** The users as the store first read them, standing in for the re-read under a claim. */
export function unclaimedUsers(plans: readonly Plan[]): Map<string, StoredUser> {
  return new Map(
    plans.map(({ subject }) => [
      subject._id,
      {
        _id: subject._id,
        attributes: subject.asStored?.attributes,
        rooms: subject.rooms,
        roomsAsStored: subject.asStored?.rooms,
        outbox: undefined,
      },
    ]),
  );
}

/** A user changed since a staged plan was made keeps their value and rooms: the plan is skipped. */
export function markStale(plans: readonly Plan[], current: ReadonlyMap<string, StoredUser>): void {
  for (const plan of plans) {
    const user = current.get(plan.subject._id);
    if (user && isStale(plan, user.attributes ?? [])) {
      plan.stale = true;
      plan.result = { ...identity(plan.subject), status: 'unchanged' };
    }
  }
}

/** A user the read did not return (another sync held them, or they went) is a write conflict. */
export function markMissing(plans: readonly Plan[], current: ReadonlyMap<string, StoredUser>): void {
  for (const plan of plans)
    if (!current.has(plan.subject._id))
      plan.result = { ...identity(plan.subject), status: 'failed', error: 'error-write-conflict' };
}
