import { z } from 'zod';
import type { StagedChange } from './staged-change';

// What a kept plan does, by attribute value and by room: what lets an admin see at a glance that a plan is
// "everyone loses department" (a broken map) rather than a real reorganisation. Pure: the caller streams
// the plan's staged changes through it.

const count = z.int().nonnegative();

export const planSummarySchema = z
  .object({
    users: count.meta({ description: 'Users the plan changes or leaves alone (stale), all of them.' }),
    stale: count.meta({
      description: 'Users left alone: changed since the plan (or, for an undo, the change set).',
    }),
    attributes: z.array(z.object({ key: z.string(), value: z.string(), gain: count, lose: count })).meta({
      description:
        'Per attribute key and value: how many users gain it, how many lose it. By key, then value.',
    }),
    rooms: z.array(z.object({ _id: z.string(), name: z.string(), leave: count, comeBack: count })).meta({
      description: 'Per room: memberships the plan ends, and memberships it gives back (an undo). By name.',
    }),
  })
  .meta({ id: 'PlanSummary' });

export type PlanSummary = z.infer<typeof planSummarySchema>;

/** Counts a plan's changes as they stream by; `summary()` gives the totals so far. */
export class PlanTally {
  private users = 0;
  private stale = 0;
  private readonly values = new Map<string, { key: string; value: string; gain: number; lose: number }>();
  private readonly rooms = new Map<string, { _id: string; name: string; leave: number; comeBack: number }>();

  add(changes: readonly StagedChange[]): void {
    for (const change of changes) {
      this.users += 1;
      if (change.stale) {
        this.stale += 1;
        continue;
      }
      for (const { key, values } of change.added ?? [])
        for (const value of values) this.value(key, value).gain += 1;
      for (const { key, values } of change.removed ?? [])
        for (const value of values) this.value(key, value).lose += 1;
      for (const room of change.roomsRevoked) this.room(room).leave += 1;
      for (const { room } of change.restore ?? []) this.room(room).comeBack += 1;
    }
  }

  summary(): PlanSummary {
    return {
      users: this.users,
      stale: this.stale,
      attributes: [...this.values.values()].sort(
        (a, b) => compare(a.key, b.key) || compare(a.value, b.value),
      ),
      rooms: [...this.rooms.values()].sort((a, b) => compare(a.name, b.name) || compare(a._id, b._id)),
    };
  }

  private value(key: string, value: string) {
    const id = JSON.stringify([key, value]);
    let tally = this.values.get(id);
    if (!tally) this.values.set(id, (tally = { key, value, gain: 0, lose: 0 }));
    return tally;
  }

  private room({ _id, name }: { _id: string; name: string }) {
    let tally = this.rooms.get(_id);
    if (!tally) this.rooms.set(_id, (tally = { _id, name, leave: 0, comeBack: 0 }));
    return tally;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
