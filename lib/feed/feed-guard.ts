import type { Clock } from '../clock';
import type { SyncJobStore } from '../jobs/job-store';
import { guardFigures, revokesTooMuch, type GuardFigures } from '../jobs/revocation-guard';
import { revocationsOf, stagedChangeOf, type ApplicablePlan } from '../jobs/run-plan';
import { randomId } from '../random-id';
import type { AbacLdapSyncService } from '../sync/abac-ldap-sync-service';
import type { SyncConfiguration } from '../sync/sync-configuration';
import { needsClaim, type KnownRooms } from '../sync/sync-plan';
import type { SyncStore } from '../sync/sync-store';
import type { FeedIdentifiers } from './feed-identifiers';

export interface FeedGuardPorts {
  engine: AbacLdapSyncService;
  users: Pick<SyncStore, 'findSubjects' | 'countLdapSubjects'>;
  jobs: Pick<SyncJobStore, 'stage' | 'insertBlocked'>;
  clock: Clock;
}

/** Plans entries without mapped values as runs do: the guard judges the whole plan. */
const PLAN_EVERYTHING = { refuseUnmappedEntries: false };

/**
 * The mass-revocation guard on the changed-entries feed: a bulk mistake in the directory reaches the feed
 * within seconds, so before a poll's changes are applied, the users they reach are planned (nothing
 * written) and the plan is judged with the directory-wide runs' thresholds, the base being every LDAP
 * user. A plan that revokes too much is kept as a blocked run (`trigger: feed`) for an admin to review
 * and apply (POST …/jobs/:jobId/apply), or to discard.
 */
export class FeedGuard {
  constructor(private readonly ports: FeedGuardPorts) {}

  /** Resolves with the blocked run when the plan revokes too much; undefined when it may be applied. */
  async stop(
    identifiers: FeedIdentifiers,
    configuration: SyncConfiguration,
    thresholds: { percent: number; users: number },
  ): Promise<{ jobId: string; guard: GuardFigures } | undefined> {
    const { engine, users, jobs, clock } = this.ports;
    const { subjects } = await users.findSubjects(identifiers);
    const rooms: KnownRooms = new Map();
    const jobId = randomId();
    const { plans } = await engine.planSubjects(
      subjects,
      configuration,
      rooms,
      jobId,
      undefined,
      PLAN_EVERYTHING,
    );
    await engine.preview(plans, rooms);
    const staged = plans.filter((plan): plan is ApplicablePlan => needsClaim(plan, rooms));
    const guard = guardFigures(revocationsOf(staged), await users.countLdapSubjects(), thresholds);
    if (!revokesTooMuch(guard)) return undefined;
    await jobs.stage(staged.map((plan) => stagedChangeOf(jobId, plan)));
    await jobs.insertBlocked(
      {
        _id: jobId,
        trigger: 'feed',
        actor: { type: 'system', jobId },
        dryRun: false,
        createdAt: new Date(clock.now()),
      },
      { guard, planned: staged.length, at: new Date(clock.now()) },
    );
    return { jobId, guard };
  }
}
