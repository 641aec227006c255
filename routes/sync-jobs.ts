import type { Router } from 'express';
import { InvalidParamsError } from '../lib/errors';
import type { Caller } from '../lib/access/caller';
import { jobView, type SyncJob, type SyncJobActor } from '../lib/jobs/sync-job';
import type { SyncJobs } from '../lib/jobs/sync-jobs';
import type { FeedStatus } from '../lib/feed/feed-status';
import { DEFAULT_CHANGES_PAGE, DEFAULT_JOB_LIST_LIMIT } from '../lib/jobs/run-requests';
import { plannedChangeView } from '../lib/jobs/staged-change';
import type { Admit } from './admin-gate';
import { ROUTES } from './route-specs';
import { serve } from './serve';
import type { SyncUndo } from '../lib/undo/sync-undo';

export { FEED_PATH, SYNC_JOBS_PATH } from './route-specs';

export interface SyncJobRoutesDeps {
  jobs: SyncJobs;
  /** The changed-entries feed's status and discard; without them the /feed routes are not served. */
  feedStatus?: () => Promise<FeedStatus>;
  discardFeedBlock?: (by: SyncJobActor) => Promise<FeedStatus>;
  bodyLimitBytes: number;
  /** The admin gate the sync route uses (auth, rate, license, permissions). */
  admit: Admit;
}

/** The admin on whose behalf a run is stopped or a feed block discarded, as the job records it. */
function adminActor(caller: Caller): SyncJobActor {
  return { type: 'user', _id: caller._id, username: caller.username };
}

/**
 * Directory-wide runs: start (202), list, read, review a kept plan, apply it (202), cancel. Behind the same gate as
 * the sync. Starting and applying also need the settings a sync needs (ABAC and LDAP on, settings usable);
 * reading, cancelling and discarding need the gate alone, so an admin who switched ABAC or LDAP off in an
 * emergency still sees and stops what runs.
 */
export function registerSyncJobRoutes(router: Router, deps: SyncJobRoutesDeps): void {
  const { jobs } = deps;
  const served = { admit: deps.admit, bodyLimitBytes: deps.bodyLimitBytes };
  const jobAnswer = (job: SyncJob) => ({ success: true, job: jobView(job) });

  serve(router, ROUTES.startRun, served, async ({ caller, body }) =>
    jobAnswer(
      await jobs.start({
        trigger: 'admin',
        admin: { _id: caller._id, username: caller.username },
        dryRun: body.dryRun ?? false,
      }),
    ),
  );

  serve(router, ROUTES.listRuns, served, async ({ query }) => {
    const count = query.count ?? query.limit ?? DEFAULT_JOB_LIST_LIMIT;
    const offset = query.offset ?? 0;
    const list = await jobs.list(count, offset);
    return {
      success: true,
      jobs: list.jobs.map(jobView),
      count: list.jobs.length,
      offset,
      total: list.total,
    };
  });

  const { feedStatus, discardFeedBlock } = deps;
  if (feedStatus)
    serve(router, ROUTES.readFeed, served, async () => ({ success: true, feed: await feedStatus() }));
  if (discardFeedBlock)
    serve(router, ROUTES.discardFeed, served, async ({ caller }) => ({
      success: true,
      feed: await discardFeedBlock(adminActor(caller)),
    }));

  serve(router, ROUTES.readRun, served, async ({ params }) =>
    jobAnswer(await jobs.get(String(params.jobId))),
  );

  serve(router, ROUTES.listChanges, served, async ({ query, params }) => {
    const { stale, losesRooms, count, limit, offset = 0, ...rest } = query;
    if (rest.cursor !== undefined && offset > 0)
      throw new InvalidParamsError([{ path: 'offset', message: 'give a cursor or an offset, not both' }]);
    const page = await jobs.changes(String(params.jobId), {
      ...rest,
      stale: stale === 'true',
      losesRooms: losesRooms === 'true',
      offset,
      limit: count ?? limit ?? DEFAULT_CHANGES_PAGE,
    });
    return {
      success: true,
      changes: page.changes.map(plannedChangeView),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      count: page.changes.length,
      offset,
      total: page.total,
    };
  });

  serve(router, ROUTES.planSummary, served, async ({ params }) => ({
    success: true,
    summary: await jobs.planSummary(String(params.jobId)),
  }));

  serve(router, ROUTES.applyPlan, served, async ({ caller, params }) =>
    jobAnswer(
      await jobs.apply(String(params.jobId), {
        trigger: 'admin',
        admin: { _id: caller._id, username: caller.username },
      }),
    ),
  );

  serve(router, ROUTES.cancelRun, served, async ({ caller, params }) =>
    jobAnswer(await jobs.cancel(String(params.jobId), adminActor(caller))),
  );
}

/** Undo (202): plans the undo of a change set, kept for review and applied like any kept plan. */
export function registerUndoRoute(
  router: Router,
  deps: { undo: SyncUndo; admit: Admit; bodyLimitBytes: number },
): void {
  const served = { admit: deps.admit, bodyLimitBytes: deps.bodyLimitBytes };
  serve(router, ROUTES.undo, served, async ({ caller, body }) => ({
    success: true,
    job: jobView(
      await deps.undo.plan(body, { trigger: 'admin', admin: { _id: caller._id, username: caller.username } }),
    ),
  }));
}
