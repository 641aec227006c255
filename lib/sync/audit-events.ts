import { createHash } from 'node:crypto';
import type { ServerEventActor, ServerEventDocument } from './server-event';
import type { AbacAttribute } from './abac-attribute';
import type { Clock } from '../clock';
import { randomId } from '../random-id';
import type { StoredSubscription, UndoRecord } from './undo-record';
import { evictionKey, RESTORED_FIELD } from './room-member-remover';

export const ATTRIBUTE_CHANGED_EVENT = 'abac.subject.attribute.changed';
export const ACTION_PERFORMED_EVENT = 'abac.action.performed';
export const SYNC_REASON = 'ldap-sync';

export interface Subject {
  _id: string;
  username: string;
}

/** Who a change is made for: the calling admin (requests, runs started on demand) or a scheduled job. */
export type SyncActor = { type: 'user'; _id: string; username: string } | { type: 'system'; jobId: string };

export interface AuditContext {
  actor: SyncActor;
  requestId: string;
  /** Applying a plan an admin reviewed: the run that made it (recorded on every event). */
  reviewedJobId?: string;
  /** Why the change is made (default `ldap-sync`; the changed-entries feed says `ldap-change-feed`). */
  reason?: string;
  /** Applying an undo: the change set it takes back (recorded on every event). */
  undoes?: string;
}

/** An audit event as it waits in a user's outbox: with what undo needs to take its change back. */
export type OutboxEvent = ServerEventDocument & { undo?: UndoRecord };

/** The audit events of a sync, as `rocketchat_server_events` documents (semantics §8). */
export class AuditEvents {
  constructor(private readonly clock: Clock) {}

  /** The change from `before` to `after`; the event records the diff, its undo record both values. */
  attributesChanged(
    subject: Subject,
    change: {
      before: AbacAttribute[];
      after: AbacAttribute[];
      added: AbacAttribute[];
      removed: AbacAttribute[];
    },
    context: AuditContext,
  ): OutboxEvent {
    const event = this.event(randomId(), ATTRIBUTE_CHANGED_EVENT, context, [
      { key: 'subject', value: identity(subject) },
      { key: 'reason', value: context.reason ?? SYNC_REASON },
      { key: 'requestId', value: context.requestId },
      { key: 'added', value: change.added },
      { key: 'removed', value: change.removed },
      ...reviewed(context),
    ]);
    const { before, after } = change;
    return { ...event, undo: { ...undoOf(subject, context), kind: 'attributes', before, after } };
  }

  /**
   * Its id follows from the eviction's key, so a repeated eviction step records it once; its undo record
   * keeps the whole subscription.
   */
  accessRevoked(
    subject: Subject,
    room: { _id: string; name: string },
    subscription: StoredSubscription,
    context: AuditContext,
  ): OutboxEvent {
    const _id = revocationEventId(evictionKey(subscription));
    return this.membershipEvent(_id, 'revoked-object-access', subject, room, context, {
      kind: 'membershipEnded',
      subscription,
    });
  }

  /**
   * A membership undo gives back. Its id follows from the change set and the subscription, so the same
   * restore begun again is recorded once; its undo record keeps the subscription as put back.
   */
  accessGranted(
    subject: Subject,
    room: { _id: string; name: string },
    subscription: StoredSubscription,
    context: AuditContext,
  ): OutboxEvent {
    const _id = grantEventId(context.requestId, subscription._id);
    return this.membershipEvent(_id, 'granted-object-access', subject, room, context, {
      kind: 'membershipRestored',
      subscription: { ...subscription, [RESTORED_FIELD]: _id },
    });
  }

  /** An `abac.action.performed` event on one room, with its undo record. */
  private membershipEvent(
    _id: string,
    action: 'revoked-object-access' | 'granted-object-access',
    subject: Subject,
    room: { _id: string; name: string },
    context: AuditContext,
    undo: { kind: 'membershipEnded' | 'membershipRestored'; subscription: StoredSubscription },
  ): OutboxEvent {
    const object = { _id: room._id, name: room.name };
    const event = this.event(_id, ACTION_PERFORMED_EVENT, context, [
      { key: 'action', value: action },
      { key: 'subject', value: identity(subject) },
      { key: 'object', value: object },
      { key: 'reason', value: context.reason ?? SYNC_REASON },
      { key: 'requestId', value: context.requestId },
      ...reviewed(context),
    ]);
    return { ...event, undo: { ...undoOf(subject, context), ...undo, room: object } };
  }

  private event(
    _id: string,
    t: string,
    context: AuditContext,
    data: ServerEventDocument['data'],
  ): ServerEventDocument {
    const { actor: who } = context;
    const actor: ServerEventActor =
      who.type === 'user'
        ? { type: 'user', _id: who._id, username: who.username }
        : { type: 'system', jobId: who.jobId };
    return { _id, t, ts: new Date(this.clock.now()), actor, data };
  }
}

function reviewed(context: AuditContext): ServerEventDocument['data'] {
  return [
    ...(context.reviewedJobId ? [{ key: 'reviewedJobId', value: context.reviewedJobId }] : []),
    ...(context.undoes ? [{ key: 'undoes', value: context.undoes }] : []),
  ];
}

function undoOf(subject: Subject, context: AuditContext) {
  return { changeSet: context.requestId, userId: subject._id, username: subject.username };
}

function identity(subject: Subject): Subject {
  return { _id: subject._id, username: subject.username };
}

/** The id of the restore of `subscriptionId` by change set `requestId` (letters and digits only). */
export function grantEventId(requestId: string, subscriptionId: string): string {
  const hash = createHash('sha256').update(`${requestId}\n${subscriptionId}`).digest('hex').slice(0, 24);
  return `abacGranted${hash}`;
}

/** A stable id made of letters and digits only (it is also a key in the outbox). */
export function revocationEventId(evictionKey: string): string {
  return `abacRevoked${createHash('sha256').update(evictionKey).digest('hex').slice(0, 24)}`;
}
