import type { ServerEventDocument, ServerEventModel } from '../models/server-event';
import type { UndoJournalDocument, UndoJournalModel } from '../models/undo-journal';
import type { OutboxEvent } from '../lib/sync/audit-events';
import type { UserModel } from '../models/user';
import type { Logger } from '../lib/logger';
import type { SyncMetrics } from '../lib/metrics';
import type { Outboxes } from '../lib/sync/sync-store';
import { OUTBOX_FIELD } from './conditional-writes';
import { insertOnce } from './insert-once';

export interface AuditOutboxPorts {
  serverEvents: ServerEventModel;
  undoJournal: UndoJournalModel;
  users: UserModel;
  logger: Logger;
  metrics: Pick<SyncMetrics, 'auditWritesFailed'>;
}

/**
 * The audit trail in rocketchat_server_events, written through an outbox: each event is first stored on the
 * user in the same update as the change it records (`__abacAuditOutbox`), then copied here by its id, then
 * removed from the user. A crash or a refused insert in between leaves the event in the outbox, and the next
 * sync of that user copies it; an event already copied is a duplicate id, so each is stored once. An
 * event's undo record goes the same way to abac_sync_undo_journal, under the event's id, in the same step.
 */
export class MongoAuditOutbox {
  constructor(private readonly ports: AuditOutboxPorts) {}

  /**
   * Copies the events to the audit trail; resolves with those stored (now or before), by user. The others
   * are logged and counted, and stay in their outboxes.
   */
  async copy(outboxes: Outboxes, requestId: string): Promise<Outboxes> {
    const events = [...outboxes.values()].flatMap((outbox) => Object.values(outbox));
    if (events.length === 0) return new Map();
    const failedIds = await this.insert(events, requestId);

    const stored: Outboxes = new Map();
    for (const [userId, outbox] of outboxes) {
      const kept = Object.entries(outbox).filter(([id]) => !failedIds.has(id));
      if (kept.length > 0) stored.set(userId, Object.fromEntries(kept));
    }
    return stored;
  }

  /** Removes copied events from their users' outboxes (only those: an event added since stays). */
  async clear(copied: Outboxes): Promise<void> {
    const operations = [...copied]
      .filter(([, outbox]) => Object.keys(outbox).length > 0)
      .map(([userId, outbox]) => ({
        updateOne: {
          filter: { _id: userId as never },
          update: {
            $unset: Object.fromEntries(Object.keys(outbox).map((id) => [`${OUTBOX_FIELD}.${id}`, 1])),
          },
        },
      }));
    if (operations.length > 0) await this.ports.users.collection.bulkWrite(operations, { ordered: false });
  }

  /**
   * The ids of the events that could not be stored, themselves or their undo records (a duplicate is
   * stored already).
   */
  private async insert(events: OutboxEvent[], requestId: string): Promise<Set<string>> {
    const trail: ServerEventDocument[] = events.map(({ undo: _undo, ...event }) => event);
    const journal: UndoJournalDocument[] = events.flatMap(({ _id, ts, undo }) =>
      undo ? [{ ...undo, _id, at: ts }] : [],
    );
    const [inTrail, inJournal] = await Promise.all([
      insertOnce(this.ports.serverEvents, trail),
      insertOnce(this.ports.undoJournal, journal),
    ]);
    const failedIds = new Set([
      ...inTrail.failed.map((index) => trail[index]?._id ?? ''),
      ...inJournal.failed.map((index) => journal[index]?._id ?? ''),
    ]);
    const error = inTrail.error ?? inJournal.error;
    if (failedIds.size > 0) {
      this.ports.metrics.auditWritesFailed(failedIds.size);
      this.ports.logger.error(
        { requestId, failed: failedIds.size, err: error instanceof Error ? error.message : String(error) },
        "audit events could not be written; they stay in the users' outboxes for the next sync",
      );
    }
    return failedIds;
  }
}
