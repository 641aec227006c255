import { appliedResult, countResults, planOfStaged, stagedChangeOf } from '../../lib/jobs/run-plan';
import type { StagedChange } from '../../lib/jobs/staged-change';

const subject = {
  _id: 'u1',
  username: 'one',
  emails: [],
  storedAttributes: [{ key: 'department', values: ['old'] }],
  rooms: ['r1', 'r2'],
  ldap: undefined,
  fromLdap: true,
  outbox: undefined,
};

/** The pure steps of a directory-wide run: staging, applying what was staged, counting. */
describe('run planning', () => {
  const change: StagedChange = {
    jobId: 'j1',
    userId: 'u1',
    username: 'one',
    status: 'updated',
    before: [{ key: 'department', values: ['old'] }],
    next: [{ key: 'department', values: ['new'] }],
    added: [{ key: 'department', values: ['new'] }],
    removed: [{ key: 'department', values: ['old'] }],
    roomsRevoked: [{ _id: 'r1', name: 'sales' }],
  };

  it('stages what the plan decided, with the value it was made from', () => {
    const staged = stagedChangeOf('j1', {
      subject,
      next: change.next,
      result: {
        _id: 'u1',
        username: 'one',
        status: 'updated',
        added: change.added,
        removed: change.removed,
        roomsRevoked: change.roomsRevoked,
      },
    });
    expect(staged).toEqual(change);
  });

  it('hands the engine the user as read before applying, which its write without a claim is conditioned on', () => {
    const stored = {
      _id: 'u1',
      attributes: [{ key: 'department', values: ['old'] }],
      rooms: ['r1', 'r9'],
      roomsAsStored: ['r1', 'r9'],
      outbox: undefined,
    };
    const plan = planOfStaged(change, stored);
    expect(plan.subject).toMatchObject({
      storedAttributes: stored.attributes,
      rooms: ['r1', 'r9'],
      asStored: { attributes: stored.attributes, rooms: ['r1', 'r9'] },
    });
    expect(plan.reviewedBefore).toEqual(change.before);
    // A user without attributes or rooms fields: absent stays absent for the condition.
    const bare = planOfStaged(change, {
      ...stored,
      attributes: undefined,
      rooms: [],
      roomsAsStored: undefined,
    });
    expect(bare.subject).toMatchObject({ storedAttributes: [], rooms: [] });
    expect(bare.subject.asStored).toEqual({ attributes: undefined, rooms: undefined });
  });

  it('hands the engine the staged target and identity (a user gone since is re-read under the claim)', () => {
    const plan = planOfStaged(change);
    expect(plan.subject.asStored).toBeUndefined();
    expect(plan.next).toEqual(change.next);
    expect(plan.subject).toMatchObject({
      _id: 'u1',
      username: 'one',
      fromLdap: true,
      storedAttributes: change.before,
    });
    expect(plan.result).toEqual({
      _id: 'u1',
      username: 'one',
      status: 'updated',
      added: change.added,
      removed: change.removed,
    });
  });

  it('reports a change found already applied (a resumed batch) as planned, not as unchanged', () => {
    const applied = appliedResult(change, { _id: 'u1', username: 'one', status: 'unchanged' });
    expect(applied).toEqual({
      _id: 'u1',
      username: 'one',
      status: 'updated',
      added: change.added,
      removed: change.removed,
    });
  });

  it('reports what the claim re-read decided otherwise', () => {
    const failed = {
      _id: 'u1',
      username: 'one',
      status: 'failed' as const,
      error: 'error-write-conflict' as const,
    };
    expect(appliedResult(change, failed)).toBe(failed);
    const unchangedPlan = { ...change, status: 'unchanged' as const };
    const unchanged = { _id: 'u1', username: 'one', status: 'unchanged' as const };
    expect(appliedResult(unchangedPlan, unchanged)).toBe(unchanged);
  });

  it('counts statuses and revoked rooms; requested and matched count the users planned', () => {
    expect(
      countResults(
        [
          {
            _id: 'a',
            username: 'a',
            status: 'updated',
            roomsRevoked: [
              { _id: 'r1', name: 'x' },
              { _id: 'r2', name: 'y' },
            ],
          },
          { _id: 'b', username: 'b', status: 'updated' },
          { _id: 'c', username: 'c', status: 'notFoundInLdap' },
        ],
        5,
      ),
    ).toEqual({ requested: 5, matched: 5, updated: 2, notFoundInLdap: 1, roomsRevoked: 2 });
    expect(countResults([], 0)).toEqual({ requested: 0, matched: 0 });
  });
});
