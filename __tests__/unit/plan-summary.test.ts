import { PlanTally } from '../../lib/jobs/plan-summary';
import type { StagedChange } from '../../lib/jobs/staged-change';

const change = (userId: string, fields: Partial<StagedChange>): StagedChange => ({
  jobId: 'job',
  userId,
  username: userId,
  status: 'updated',
  before: [],
  next: [],
  roomsRevoked: [],
  ...fields,
});
const sales = { _id: 'r-sales', name: 'sales' };

describe("a plan's summary by attribute value and by room (pure)", () => {
  it('counts who gains and who loses each value, and the memberships each room loses and gets back', () => {
    const tally = new PlanTally();
    tally.add([
      change('a', {
        added: [{ key: 'department', values: ['eng'] }],
        removed: [{ key: 'department', values: ['sales'] }],
        roomsRevoked: [sales],
      }),
      change('b', {
        status: 'cleared',
        removed: [{ key: 'department', values: ['sales', 'ops'] }],
        roomsRevoked: [sales],
      }),
    ]);
    tally.add([
      change('c', {
        added: [{ key: 'department', values: ['sales'] }],
        restore: [{ room: sales, subscription: { _id: 's-c', rid: 'r-sales', u: { _id: 'c' } } }],
      }),
      change('d', { status: 'unchanged', stale: true, removed: [{ key: 'department', values: ['eng'] }] }),
    ]);
    expect(tally.summary()).toEqual({
      users: 4,
      stale: 1,
      attributes: [
        { key: 'department', value: 'eng', gain: 1, lose: 0 },
        { key: 'department', value: 'ops', gain: 0, lose: 1 },
        { key: 'department', value: 'sales', gain: 1, lose: 2 },
      ],
      rooms: [{ _id: 'r-sales', name: 'sales', leave: 2, comeBack: 1 }],
    });
  });

  it('says "everyone loses department" plainly: one value, every user losing it', () => {
    const tally = new PlanTally();
    tally.add(
      Array.from({ length: 50 }, (_, index) =>
        change(`u${index}`, { status: 'cleared', removed: [{ key: 'department', values: ['eng'] }] }),
      ),
    );
    expect(tally.summary().attributes).toEqual([{ key: 'department', value: 'eng', gain: 0, lose: 50 }]);
  });
});
