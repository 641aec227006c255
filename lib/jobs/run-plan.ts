import type { AbacAttribute } from '../sync/abac-attribute';
import { identity, type Plan } from '../sync/sync-plan';
import type { UserSyncResult } from '../sync/sync-report';
import type { JobSummary } from './sync-job';
import type { StoredUser, SyncSubject } from '../sync/sync-store';
import type { PlannedRevocations } from './revocation-guard';
import type { StagedChange } from './staged-change';

// Pure steps of a directory-wide run: what is staged from a plan, the plan applied from a staged change,
// and what a batch adds to the job's counters. No I/O here.

export type ApplicablePlan = Plan & { next: AbacAttribute[] };

/** The staged change of a planned user (`plan.result` as the planning previewed it, rooms included). */
export function stagedChangeOf(jobId: string, plan: ApplicablePlan): StagedChange {
  const { result } = plan;
  return {
    jobId,
    userId: plan.subject._id,
    username: plan.subject.username,
    status: result.status,
    before: plan.subject.storedAttributes,
    next: plan.next,
    ...(result.added ? { added: result.added } : {}),
    ...(result.removed ? { removed: result.removed } : {}),
    roomsRevoked: result.roomsRevoked ?? [],
  };
}

/**
 * The plan the apply phase hands the engine: the user's identity and the directory's value from the
 * staging, with the value the plan was made from, and the user as read just before applying (`stored`),
 * which the engine's write is conditioned on. A user whose value another writer changed since (the
 * changed-entries feed, a request, read from a newer directory) is left alone and counted stale, never set
 * back to the older plan. Without `stored` (the user is gone) the engine re-reads under the claim.
 */
export function planOfStaged(change: StagedChange, stored?: StoredUser): ApplicablePlan {
  const subject: SyncSubject = {
    _id: change.userId,
    username: change.username,
    emails: [],
    storedAttributes: stored ? (stored.attributes ?? []) : change.before,
    rooms: stored ? stored.rooms : change.roomsRevoked.map((room) => room._id),
    ldap: undefined,
    fromLdap: true,
    outbox: stored?.outbox,
    ...(stored ? { asStored: { attributes: stored.attributes, rooms: stored.roomsAsStored } } : {}),
  };
  return {
    subject,
    next: change.next,
    reviewedBefore: change.before,
    ...(change.restore?.length ? { restore: change.restore } : {}),
    ...(change.stale ? { stale: true } : {}),
    result: {
      ...identity(subject),
      status: change.status,
      ...(change.added ? { added: change.added } : {}),
      ...(change.removed ? { removed: change.removed } : {}),
    },
  };
}

/**
 * What to report for a staged change once applied. A user found already holding the planned value when
 * the plan said it changes was written by this run before an interruption (or by a writer that reached the
 * same value): reported as planned, not as unchanged, so a resumed run's counters match a run that was
 * never interrupted.
 */
export function appliedResult(change: StagedChange, applied: UserSyncResult): UserSyncResult {
  if (applied.status !== 'unchanged' || change.status === 'unchanged') return applied;
  return {
    ...applied,
    status: change.status,
    ...(change.added ? { added: change.added } : {}),
    ...(change.removed ? { removed: change.removed } : {}),
  };
}

/** What a batch of results adds to a job's summary; `requested` and `matched` count users planned. */
export function countResults(results: readonly UserSyncResult[], planned: number): Partial<JobSummary> {
  const counts: Partial<JobSummary> = { requested: planned, matched: planned };
  for (const result of results) {
    counts[result.status] = (counts[result.status] ?? 0) + 1;
    const revoked = result.roomsRevoked?.length ?? 0;
    if (revoked > 0) counts.roomsRevoked = (counts.roomsRevoked ?? 0) + revoked;
    const restored = result.roomsRestored?.length ?? 0;
    if (restored > 0) counts.roomsRestored = (counts.roomsRestored ?? 0) + restored;
  }
  return counts;
}

/** What a batch's staged plans take away: users losing a value (cleared included), cleared users, rooms left. */
export function revocationsOf(staged: readonly ApplicablePlan[]): PlannedRevocations {
  const revocations: PlannedRevocations = { revokedUsers: 0, clearedUsers: 0, evictions: 0 };
  for (const { result } of staged) {
    if (result.removed?.length) revocations.revokedUsers += 1;
    if (result.status === 'cleared') revocations.clearedUsers += 1;
    revocations.evictions += result.roomsRevoked?.length ?? 0;
  }
  return revocations;
}

/** The users whose plans take at least one value away (cleared users included). */
export function revokedUserIdsOf(
  plans: readonly { subject: { _id: string }; result: Pick<UserSyncResult, 'removed'> }[],
): string[] {
  return plans.filter(({ result }) => result.removed?.length).map(({ subject }) => subject._id);
}
