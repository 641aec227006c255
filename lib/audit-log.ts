import type { ServerEventActor, ServerEventDocument, ServerEventModel } from '../models/server-event';
import type { AbacAttribute } from '../models/user';
import type { Clock } from './clock';
import type { Logger } from './logger';
import { randomId } from './random-id';

export const ATTRIBUTE_CHANGED_EVENT = 'abac.subject.attribute.changed';
export const ACTION_PERFORMED_EVENT = 'abac.action.performed';
export const SYNC_REASON = 'ldap-sync';

export interface Subject {
  _id: string;
  username: string;
}

export type AuditEvent =
  | { type: 'attributesChanged'; subject: Subject; added: AbacAttribute[]; removed: AbacAttribute[] }
  | { type: 'accessRevoked'; subject: Subject; object: { _id: string; name: string } };

export interface AuditContext {
  actor: Subject;
  requestId: string;
}

/** Writes the audit trail to rocketchat_server_events; a failed write is logged and counted, never hidden. */
export class AuditLog {
  constructor(private readonly ports: { serverEvents: ServerEventModel; clock: Clock; logger: Logger }) {}

  /** Resolves with the number of events that could not be stored. */
  async record(events: readonly AuditEvent[], context: AuditContext): Promise<number> {
    if (events.length === 0) return 0;
    const ts = new Date(this.ports.clock.now());
    const actor: ServerEventActor = {
      type: 'user',
      _id: context.actor._id,
      username: context.actor.username,
    };
    const documents = events.map((event) => toDocument(event, context.requestId, actor, ts));
    try {
      // lean: the documents are built here, typed; mongoose need not hydrate and validate each one.
      await this.ports.serverEvents.insertMany(documents, { ordered: false, lean: true });
      return 0;
    } catch (error) {
      const inserted = (error as { insertedDocs?: unknown[] }).insertedDocs?.length ?? 0;
      const failed = documents.length - inserted;
      this.ports.logger.error(
        { requestId: context.requestId, failed, err: error instanceof Error ? error.message : String(error) },
        'audit events could not be written',
      );
      return failed;
    }
  }
}

function toDocument(
  event: AuditEvent,
  requestId: string,
  actor: ServerEventActor,
  ts: Date,
): ServerEventDocument {
  const subject = { _id: event.subject._id, username: event.subject.username };
  if (event.type === 'attributesChanged') {
    return {
      _id: randomId(),
      t: ATTRIBUTE_CHANGED_EVENT,
      ts,
      actor,
      data: [
        { key: 'subject', value: subject },
        { key: 'reason', value: SYNC_REASON },
        { key: 'requestId', value: requestId },
        { key: 'added', value: event.added },
        { key: 'removed', value: event.removed },
      ],
    };
  }
  return {
    _id: randomId(),
    t: ACTION_PERFORMED_EVENT,
    ts,
    actor,
    data: [
      { key: 'action', value: 'revoked-object-access' },
      { key: 'subject', value: subject },
      { key: 'object', value: event.object },
      { key: 'reason', value: SYNC_REASON },
      { key: 'requestId', value: requestId },
    ],
  };
}
