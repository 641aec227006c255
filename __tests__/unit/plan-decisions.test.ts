import { AuditEvents, type AuditContext } from '../../lib/sync/audit-events';
import { decideWrite, markMissing, markStale, type Removal } from '../../lib/sync/plan-decisions';
import type { KnownRooms, Plan } from '../../lib/sync/sync-plan';
import type { StoredUser } from '../../lib/sync/sync-store';
import { ManualClock } from '../helpers/host';
import { ldapSubject } from '../helpers/subjects';

// What applying a plan decides from the users as read, before anything is written: no store, no server.

const SALES = [{ key: 'department', values: ['sales'] }];
const ENG = [{ key: 'department', values: ['eng'] }];
const context: AuditContext = { actor: { type: 'system', jobId: 'j1' }, requestId: 'req-1' };
const audit = new AuditEvents(new ManualClock());
const rooms: KnownRooms = new Map();

function planned(next: typeof SALES, stored = SALES): Plan {
  const subject = ldapSubject({ storedAttributes: stored });
  return { subject, next, result: { _id: subject._id, username: subject.username, status: 'updated' } };
}

function read(attributes: typeof SALES | undefined, outbox?: StoredUser['outbox']): StoredUser {
  return { _id: 'u1', attributes, rooms: ['r-sales'], roomsAsStored: ['r-sales'], outbox };
}

const leavingSales: Removal = {
  user: { _id: 'u1', username: 'alice' },
  room: { _id: 'r-sales', name: 'sales' },
  subscriptionIds: ['s1'],
  evictionKeys: ['s1'],
  subscriptions: [{ _id: 's1', rid: 'r-sales', u: { _id: 'u1', username: 'alice' } }],
};

describe('deciding a user write', () => {
  it('writes nothing for a user who already holds the values and leaves no room', () => {
    const decided = decideWrite(planned(SALES), read(SALES), [], rooms, audit, context);
    expect(decided.write).toBeUndefined();
    expect(decided.result).toMatchObject({ status: 'unchanged' });
  });

  it('conditions a change on the value read and carries its audit event and each revocation', () => {
    const decided = decideWrite(planned(ENG), read(SALES), [leavingSales], rooms, audit, context);
    expect(decided.write).toMatchObject({ userId: 'u1', before: SALES, next: ENG });
    const events = Object.values(decided.write!.outbox);
    expect(events.map((event) => event.t).sort()).toEqual([
      'abac.action.performed',
      'abac.subject.attribute.changed',
    ]);
    // The revocation keeps the subscription whole for undo; the change keeps both values.
    expect(events.map((event) => event.undo?.kind).sort()).toEqual(['attributes', 'membershipEnded']);
    expect(decided.result).toMatchObject({ status: 'updated', added: ENG, removed: SALES });
  });

  it('adds no event already waiting in the outbox, and writes nothing if that was all', () => {
    const first = decideWrite(planned(SALES), read(SALES), [leavingSales], rooms, audit, context);
    const waiting = first.write!.outbox;
    const again = decideWrite(planned(SALES), read(SALES, waiting), [leavingSales], rooms, audit, context);
    expect(again.write).toBeUndefined();
    expect(again.outbox).toEqual(waiting);
  });
});

describe('judging the users as read', () => {
  it('leaves a user changed since a reviewed plan alone, and fails one the read did not return', () => {
    const changedSince = { ...planned(ENG), reviewedBefore: SALES };
    const gone = { ...planned(ENG), subject: ldapSubject({ _id: 'u2', username: 'bob' }) };
    const current = new Map([['u1', read([{ key: 'department', values: ['legal'] }])]]);
    markStale([changedSince, gone], current);
    markMissing([changedSince, gone], current);
    expect(changedSince).toMatchObject({ stale: true, result: { status: 'unchanged' } });
    expect(gone.result).toMatchObject({ status: 'failed', error: 'error-write-conflict' });
  });
});
