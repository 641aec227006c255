import type { Clock } from '../clock';
import type { SyncJobStore } from '../jobs/job-store';
import type { RevocationBudget } from '../jobs/revocation-budget';
import { settingsFingerprint } from '../jobs/plan-freshness';
import type { GuardFigures, GuardThresholds } from '../jobs/revocation-guard';
import { revocationsOf, revokedUserIdsOf, stagedChangeOf, type ApplicablePlan } from '../jobs/run-plan';
import { randomId } from '../random-id';
import type { AbacLdapSyncService } from '../sync/abac-ldap-sync-service';
import type { SyncConfiguration } from '../sync/sync-configuration';
import { needsClaim, type KnownRooms } from '../sync/sync-plan';
import type { SyncStore } from '../sync/sync-store';
import { identifierChunks, type FeedIdentifiers } from './feed-identifiers';

export interface FeedGuardPorts {
  engine: AbacLdapSyncService;
  users: Pick<SyncStore, 'findSubjects' | 'countLdapSubjects'>;
  jobs: Pick<SyncJobStore, 'stage' | 'insertBlocked'>;
  budget: RevocationBudget;
  clock: Clock;
}

/** A poll's plan: per batch of changes, the plans that write something; the rooms they involve. */
export interface FeedPlan {
  /** The poll's entry in the guard's window. */
  id: string;
  /** The settings it was made under (kept with a blocked plan: an apply needs the same). */
  settingsFingerprint: string;
  batches: ApplicablePlan[][];
  rooms: KnownRooms;
}

/**
 * Plans entries without mapped values as runs do: users who lost every mapped value (people leaving) are
 * cleared, and the people-reached guard, not the named-request refusal, judges how many.
 */
const PLAN_EVERYTHING = { refuseUnmappedEntries: false };
/** Users looked up and planned together: one MongoDB `$in` and a few LDAP OR filters, however big a group. */
const USERS_PER_LOOKUP = 1000;

/**
 * The mass-revocation guard on the changed-entries feed. A bulk mistake in the directory reaches the feed
 * within seconds, and one group entry can reach every member: so a poll's changes are first planned for
 * the users they reach (groups expanded, nothing written), and the users who would lose a value are judged
 * with those that unattended syncs took values from in the guard's window, the base being every LDAP user.
 * A plan that takes too much is kept as a blocked run (`trigger: feed`) for an admin to review and apply
 * (POST …/jobs/:jobId/apply), or to discard.
 */
export class FeedGuard {
  constructor(private readonly ports: FeedGuardPorts) {}

  /** Plans the users each batch of identifiers reaches, writing nothing; a directory fault throws. */
  async plan(batches: readonly FeedIdentifiers[], configuration: SyncConfiguration): Promise<FeedPlan> {
    const { engine, users } = this.ports;
    const id = `feed:${randomId()}`;
    const rooms: KnownRooms = new Map();
    const planned: ApplicablePlan[][] = [];
    for (const identifiers of batches) {
      // One group can reach every member: users are looked up and planned a chunk at a time, and a user
      // named twice (by username as a member, by id as a holder of the group's value) is planned once.
      const byUser = new Map<string, ApplicablePlan>();
      for (const chunk of identifierChunks(identifiers, USERS_PER_LOOKUP)) {
        const { subjects } = await users.findSubjects(chunk);
        const fresh = subjects.filter((subject) => !byUser.has(subject._id));
        const { plans } = await engine.planSubjects(
          fresh,
          configuration,
          rooms,
          id,
          undefined,
          PLAN_EVERYTHING,
        );
        for (const plan of plans)
          if (needsClaim(plan, rooms) && !byUser.has(plan.subject._id)) byUser.set(plan.subject._id, plan);
      }
      planned.push([...byUser.values()]);
    }
    return { id, settingsFingerprint: settingsFingerprint(configuration), batches: planned, rooms };
  }

  /**
   * Admits the poll's plan (entering its users in the window), or keeps it as a blocked run and resolves
   * with that run's id and the guard's figures.
   */
  async admit(
    plan: FeedPlan,
    thresholds: GuardThresholds,
  ): Promise<{ admitted: true } | { admitted: false; jobId: string; guard: GuardFigures }> {
    const { engine, users, jobs, budget, clock } = this.ports;
    const staged = plan.batches.flat();
    const admission = await budget.admit(
      {
        id: plan.id,
        revokedUserIds: revokedUserIdsOf(staged),
        planned: revocationsOf(staged),
        usersInRun: await users.countLdapSubjects(),
      },
      thresholds,
    );
    if (admission.admitted) return admission;
    // The review shows which rooms each user would leave: only memberships that exist.
    await engine.preview(staged, plan.rooms);
    const guard = { ...admission.guard, evictions: revocationsOf(staged).evictions };
    const jobId = randomId();
    await jobs.stage(staged.map((change) => stagedChangeOf(jobId, change)));
    await jobs.insertBlocked(
      {
        _id: jobId,
        trigger: 'feed',
        actor: { type: 'system', jobId },
        dryRun: false,
        createdAt: new Date(clock.now()),
      },
      {
        guard,
        planned: staged.length,
        at: new Date(clock.now()),
        settingsFingerprint: plan.settingsFingerprint,
      },
    );
    return { admitted: false, jobId, guard };
  }

  /** Records what the admitted plan took away once applied (a poll cut short counts what it applied). */
  settle(plan: FeedPlan, applied: readonly ApplicablePlan[]): Promise<void> {
    return this.ports.budget.settle(plan.id, revokedUserIdsOf(applied));
  }
}
