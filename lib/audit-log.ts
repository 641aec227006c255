import { createHash } from 'node:crypto';
import type { ServerEventActor, ServerEventDocument, ServerEventModel } from '../models/server-event';
import type { AbacAttribute, UserModel } from '../models/user';
import { OUTBOX_FIELD } from './attribute-writer';
import type { Clock } from './clock';
import { insertOnce } from './insert-once';
import type { Logger } from './logger';
import type { SyncMetrics } from './metrics';
import { randomId } from './random-id';

export const ATTRIBUTE_CHANGED_EVENT = 'abac.subject.attribute.changed';
export const ACTION_PERFORMED_EVENT = 'abac.action.performed';
export const SYNC_REASON = 'ldap-sync';

export interface Subject {
  _id: string;
  username: string;
}

export interface AuditContext {
  actor: Subject;
  requestId: string;
}

/** Audit events, keyed by event id, waiting in users' outboxes (`__abacAuditOutbox`). */
export type Outboxes = Map<string, Record<string, ServerEventDocument>>;

export interface AuditLogPorts {
  serverEvents: ServerEventModel;
  users: UserModel;
  clock: Clock;
  logger: Logger;
  metrics: Pick<SyncMetrics, 'auditWritesFailed'>;
}

/**
 * The audit trail in rocketchat_server_events, written through an outbox: each event is first stored on the
 * user in the same update as the change it records, then copied here by its id and removed from the user.
 * A crash or a refused insert in between leaves the event in the outbox, and the next sync of that user
 * copies it; an event already copied is a duplicate key, so each is stored once.
 */
export class AuditLog {
  constructor(private readonly ports: AuditLogPorts) {}

  attributesChanged(
    subject: Subject,
    diff: { added: AbacAttribute[]; removed: AbacAttribute[] },
    context: AuditContext,
  ): ServerEventDocument {
    return this.event(randomId(), ATTRIBUTE_CHANGED_EVENT, context, [
      { key: 'subject', value: identity(subject) },
      { key: 'reason', value: SYNC_REASON },
      { key: 'requestId', value: context.requestId },
      { key: 'added', value: diff.added },
      { key: 'removed', value: diff.removed },
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
      { key: 'reason', value: SYNC_REASON },
      { key: 'requestId', value: context.requestId },
    ]);
  }

  /**
   * Copies the outboxes' events to rocketchat_server_events and removes those stored from the outboxes.
   * Resolves with the number that could not be stored (logged and counted; they stay in the outbox).
   */
  async flush(outboxes: Outboxes, requestId: string): Promise<number> {
    const events = [...outboxes.values()].flatMap((outbox) => Object.values(outbox));
    if (events.length === 0) return 0;
    const failedIds = await this.insert(events, requestId);
    const operations = [...outboxes]
      .map(([userId, outbox]) => {
        const stored = Object.keys(outbox).filter((id) => !failedIds.has(id));
        return { userId, unset: Object.fromEntries(stored.map((id) => [`${OUTBOX_FIELD}.${id}`, 1])) };
      })
      .filter(({ unset }) => Object.keys(unset).length > 0)
      .map(({ userId, unset }) => ({
        updateOne: { filter: { _id: userId as never }, update: { $unset: unset } },
      }));
    if (operations.length > 0) await this.ports.users.collection.bulkWrite(operations, { ordered: false });
    return failedIds.size;
  }

  /** The ids of the events that could not be stored (a duplicate is stored already). */
  private async insert(events: ServerEventDocument[], requestId: string): Promise<Set<string>> {
    const { failed, error } = await insertOnce(this.ports.serverEvents, events);
    const failedIds = new Set(failed.map((index) => events[index]?._id ?? ''));
    if (failedIds.size > 0) {
      this.ports.metrics.auditWritesFailed(failedIds.size);
      this.ports.logger.error(
        { requestId, failed: failedIds.size, err: error instanceof Error ? error.message : String(error) },
        "audit events could not be written; they stay in the users' outboxes for the next sync",
      );
    }
    return failedIds;
  }

  private event(
    _id: string,
    t: string,
    context: AuditContext,
    data: ServerEventDocument['data'],
  ): ServerEventDocument {
    const actor: ServerEventActor = {
      type: 'user',
      _id: context.actor._id,
      username: context.actor.username,
    };
    return { _id, t, ts: new Date(this.ports.clock.now()), actor, data };
  }
}

function identity(subject: Subject): Subject {
  return { _id: subject._id, username: subject.username };
}

/** A stable id made of letters and digits only (it is also a key in the outbox). */
export function revocationEventId(subscriptionId: string): string {
  return `abacRevoked${createHash('sha256').update(subscriptionId).digest('hex').slice(0, 24)}`;
}
