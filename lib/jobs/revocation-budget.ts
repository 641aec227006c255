import type { Clock } from '../clock';
import {
  guardFigures,
  MAX_GUARD_WINDOW_MINUTES,
  revokesTooMuch,
  type GuardFigures,
  type GuardThresholds,
  type PlannedRevocations,
} from './revocation-guard';
import type { RevocationLedger } from './revocation-ledger';

/** A plan as the guard judges it. */
export interface GuardedPlan {
  /** Its entry in the window (`run:<jobId>`, `feed:<pollId>`). */
  id: string;
  /** The users it takes at least one value from. */
  revokedUserIds: readonly string[];
  /** Its other figures, for the review (cleared users, room memberships ended). */
  planned?: Partial<PlannedRevocations>;
  /** The base of the percentage: every LDAP user. */
  usersInRun: number;
}

export type Admission = { admitted: true } | { admitted: false; guard: GuardFigures };

const MINUTE_MS = 60_000;

/**
 * The people-reached guard for every path that writes without an admin (the changed-entries feed, the
 * directory-wide runs): a plan is judged together with the users that unattended plans took values from in
 * the window before it, each person counted once, so neither one big change nor a trickle of small ones
 * strips access unreviewed.
 */
export class RevocationBudget {
  constructor(private readonly ports: { ledger: RevocationLedger; clock: Clock }) {}

  /** The figures a plan would be judged on now, entering nothing (a dry run shows them). */
  async figures(plan: Omit<GuardedPlan, 'id'>, thresholds: GuardThresholds): Promise<GuardFigures> {
    const recent = await this.ports.ledger.usersSince(this.windowStart(thresholds));
    return this.judged(plan, recent, thresholds);
  }

  /**
   * Admits a plan or stops it. Its users are entered first and the window is read after, so of two
   * processes admitting at once each sees the other's entry: both may be stopped, never both let through
   * over the limit. A stopped plan's entry is removed; a plan that takes nothing away enters nothing.
   */
  async admit(plan: GuardedPlan, thresholds: GuardThresholds): Promise<Admission> {
    if (plan.revokedUserIds.length === 0) return { admitted: true };
    const alone = this.judged(plan, new Set(), thresholds);
    // Too much on its own: stopped before its (possibly huge) list of users is written anywhere.
    if (revokesTooMuch(alone)) return { admitted: false, guard: await this.figures(plan, thresholds) };
    const { ledger, clock } = this.ports;
    const now = clock.now();
    await ledger.forgetBefore(new Date(now - MAX_GUARD_WINDOW_MINUTES * MINUTE_MS));
    await ledger.enter({ id: plan.id, userIds: plan.revokedUserIds, at: new Date(now) });
    const guard = this.judged(
      plan,
      await ledger.usersSince(this.windowStart(thresholds), plan.id),
      thresholds,
    );
    if (!revokesTooMuch(guard)) return { admitted: true };
    await ledger.remove(plan.id);
    return { admitted: false, guard };
  }

  /**
   * Corrects an admitted plan's entry to the users it took values from once applied: a plan cut short by a
   * fault counts what it applied, and its retry enters the rest. The entry is dated anew, so it stays in
   * the window from the end of its apply (a few seconds longer, never shorter).
   */
  async settle(id: string, revokedUserIds: readonly string[]): Promise<void> {
    const { ledger, clock } = this.ports;
    if (revokedUserIds.length === 0) await ledger.remove(id);
    else await ledger.enter({ id, userIds: revokedUserIds, at: new Date(clock.now()) });
  }

  private judged(
    plan: Omit<GuardedPlan, 'id'>,
    recent: ReadonlySet<string>,
    thresholds: GuardThresholds,
  ): GuardFigures {
    const own = new Set(plan.revokedUserIds);
    let others = 0;
    for (const userId of recent) if (!own.has(userId)) others += 1;
    return guardFigures({ ...plan.planned, revokedUsers: own.size }, plan.usersInRun, thresholds, others);
  }

  private windowStart(thresholds: GuardThresholds): Date {
    return new Date(this.ports.clock.now() - thresholds.windowMinutes * MINUTE_MS);
  }
}
