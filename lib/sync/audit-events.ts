import { createHash } from 'node:crypto';
import type { ServerEventActor, ServerEventDocument } from './server-event';
import type { AbacAttribute } from './abac-attribute';
import type { Clock } from '../clock';
import { randomId } from '../random-id';

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
}

/** The audit events of a sync, as `rocketchat_server_events` documents (semantics §8). */
export class AuditEvents {
  constructor(private readonly clock: Clock) {}

  attributesChanged(
    subject: Subject,
    diff: { added: AbacAttribute[]; removed: AbacAttribute[] },
    context: AuditContext,
  ): ServerEventDocument {
    return this.event(randomId(), ATTRIBUTE_CHANGED_EVENT, context, [
      { key: 'subject', value: identity(subject) },
      { key: 'reason', value: context.reason ?? SYNC_REASON },
      { key: 'requestId', value: context.requestId },
      { key: 'added', value: diff.added },
      { key: 'removed', value: diff.removed },
      ...reviewed(context),
    ]);
  }

  /** Its id follows from the subscription ended, so a repeated eviction step records it once. */
  accessRevoked(
    subject: Subject,
    room: { _id: string; name: string },
    subscriptionId: string,
    context: AuditContext,
  ): ServerEventDocument {
    return this.event(revocationEventId(subscriptionId), ACTION_PERFORMED_EVENT, context, [
      { key: 'action', value: 'revoked-object-access' },
      { key: 'subject', value: identity(subject) },
      { key: 'object', value: { _id: room._id, name: room.name } },
      { key: 'reason', value: context.reason ?? SYNC_REASON },
      { key: 'requestId', value: context.requestId },
      ...reviewed(context),
    ]);
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
  return context.reviewedJobId ? [{ key: 'reviewedJobId', value: context.reviewedJobId }] : [];
}

function identity(subject: Subject): Subject {
  return { _id: subject._id, username: subject.username };
}

/** A stable id made of letters and digits only (it is also a key in the outbox). */
export function revocationEventId(subscriptionId: string): string {
  return `abacRevoked${createHash('sha256').update(subscriptionId).digest('hex').slice(0, 24)}`;
}
