// What the server under test spends on each shape of the users' update a sync sends, for 1,000 users in one
// bulkWrite: C's plain update, A's update conditioned on the user as read, the same carrying the audit
// events in the user's outbox, and the outbox's clearing. The gap between them is the price of writing
// without transactions on this server.
import { performance } from 'node:perf_hooks';
import type { Models } from '../models';
import { MongoAuditOutbox } from '../mongo/audit-outbox';
import { silentLogger } from '../lib/logger';
import { noMetrics } from '../lib/metrics';
import type { OutboxEvent } from '../lib/sync/audit-events';
import type { Outboxes } from '../lib/sync/sync-store';
import { DIRECTORY_SIZE, userId } from './data';
import { quantile } from './statistics';

const ROUNDS = 5;
const USERS = 1000;
/** The users the shapes write: past the named-users workloads' ones, before the full runs' changed ones. */
const FIRST = Math.min(5000, DIRECTORY_SIZE - USERS);

export interface WriteShapeCost {
  shape: string;
  medianMs: number;
}

export async function measureWriteShapes(models: Models): Promise<WriteShapeCost[]> {
  const users = models.users.collection;
  const ids = Array.from({ length: USERS }, (_, offset) => userId(FIRST + offset));
  const before = [{ key: 'department', values: ['write-shapes-before'] }];
  const next = [{ key: 'department', values: ['write-shapes-next'] }];
  const event = (id: string) => ({
    _id: `ws-${id}`,
    t: 'abac.subject.attribute.changed',
    ts: new Date(),
    actor: { type: 'system', jobId: 'bench' },
    data: [
      { key: 'subject', value: { _id: id } },
      { key: 'added', value: next },
      { key: 'removed', value: before },
    ],
  });
  const reset = () =>
    users.bulkWrite(
      ids.map((id) => ({
        updateOne: {
          filter: { _id: id as never },
          update: { $set: { abacAttributes: before, __rooms: [] }, $unset: { __abacAuditOutbox: 1 } },
        },
      })),
      { ordered: false },
    );
  const conditional = (id: string) => ({
    _id: id as never,
    abacAttributes: before,
    __rooms: [],
    __abacAuditOutbox: { $in: [null, {}] },
  });
  const shapes: Array<{ shape: string; prepare?: () => Promise<unknown>; write: () => Promise<unknown> }> = [
    {
      shape: "C's update: _id, $set attributes",
      write: () =>
        users.bulkWrite(
          ids.map((id) => ({
            updateOne: { filter: { _id: id as never }, update: { $set: { abacAttributes: next } } },
          })),
          { ordered: false },
        ),
    },
    {
      shape: "A's update without events: conditioned on attributes, rooms and an empty outbox",
      write: () =>
        users.bulkWrite(
          ids.map((id) => ({
            updateOne: { filter: conditional(id), update: { $set: { abacAttributes: next } } },
          })),
          { ordered: false },
        ),
    },
    {
      shape: "A's update: the same, carrying the audit event in the user's outbox",
      write: () =>
        users.bulkWrite(
          ids.map((id) => ({
            updateOne: {
              filter: conditional(id),
              update: { $set: { abacAttributes: next, [`__abacAuditOutbox.ws-${id}`]: event(id) } },
            },
          })),
          { ordered: false },
        ),
    },
    {
      shape: "A's clearing of the outboxes: $unset of each copied event",
      prepare: () =>
        users.bulkWrite(
          ids.map((id) => ({
            updateOne: {
              filter: { _id: id as never },
              update: { $set: { [`__abacAuditOutbox.ws-${id}`]: event(id) } },
            },
          })),
          { ordered: false },
        ),
      write: () =>
        users.bulkWrite(
          ids.map((id) => ({
            updateOne: {
              filter: { _id: id as never },
              update: { $unset: { [`__abacAuditOutbox.ws-${id}`]: 1 } },
            },
          })),
          { ordered: false },
        ),
    },
  ];
  const costs: WriteShapeCost[] = [];
  for (const { shape, prepare, write } of shapes) {
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await reset();
      await prepare?.();
      const started = performance.now();
      const result = (await write()) as { matchedCount: number };
      times.push(performance.now() - started);
      if (result.matchedCount !== USERS)
        throw new Error(`${shape}: ${result.matchedCount} of ${USERS} matched`);
    }
    costs.push({ shape, medianMs: Math.round(quantile(times, 0.5) * 10) / 10 });
  }
  await reset();
  return costs;
}

/**
 * What the undo journal adds to the audit step, per 1,000 changes: the same events copied out of their
 * outboxes by the module's MongoAuditOutbox, once without undo records (the audit trail alone) and once with
 * them (the trail and the journal, inserted side by side); paired per round, in alternating order.
 */
export async function measureAuditCopy(models: Models): Promise<{
  trailOnlyMs: number;
  withJournalMs: number;
  ratio: { median: number; iqr: [number, number] };
}> {
  const outbox = new MongoAuditOutbox({
    serverEvents: models.serverEvents,
    undoJournal: models.undoJournal,
    users: models.users,
    logger: silentLogger,
    metrics: noMetrics,
  });
  const before = [{ key: 'department', values: ['audit-copy-before'] }];
  const after = [{ key: 'department', values: ['audit-copy-after'] }];
  const outboxes = (round: number, journal: boolean): Outboxes =>
    new Map(
      Array.from({ length: USERS }, (_, offset) => {
        const id = userId(FIRST + offset);
        const event: OutboxEvent = {
          _id: `ac-${round}-${journal ? 'j' : 't'}-${id}`,
          t: 'abac.subject.attribute.changed',
          ts: new Date(),
          actor: { type: 'system', jobId: 'bench' },
          data: [
            { key: 'subject', value: { _id: id } },
            { key: 'added', value: after },
            { key: 'removed', value: before },
          ],
          ...(journal
            ? {
                undo: {
                  changeSet: 'bench',
                  userId: id,
                  username: id,
                  kind: 'attributes' as const,
                  before,
                  after,
                },
              }
            : {}),
        };
        return [id, { [event._id]: event }];
      }),
    );
  const trail: number[] = [];
  const withJournal: number[] = [];
  const time = async (events: Outboxes) => {
    const started = performance.now();
    await outbox.copy(events, 'bench');
    return performance.now() - started;
  };
  for (let round = 0; round < ROUNDS * 2; round += 1) {
    const plain = outboxes(round, false);
    const journaled = outboxes(round, true);
    if (round % 2 === 0) {
      trail.push(await time(plain));
      withJournal.push(await time(journaled));
    } else {
      withJournal.push(await time(journaled));
      trail.push(await time(plain));
    }
  }
  await models.serverEvents.deleteMany({ _id: /^ac-/ });
  await models.undoJournal.deleteMany({ changeSet: 'bench' });
  const ratios = withJournal.map((ms, index) => ms / trail[index]!);
  const round2 = (value: number) => Math.round(value * 100) / 100;
  return {
    trailOnlyMs: Math.round(quantile(trail, 0.5) * 10) / 10,
    withJournalMs: Math.round(quantile(withJournal, 0.5) * 10) / 10,
    ratio: {
      median: round2(quantile(ratios, 0.5)),
      iqr: [round2(quantile(ratios, 0.25)), round2(quantile(ratios, 0.75))],
    },
  };
}
