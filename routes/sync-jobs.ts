import type { Request, Response, Router } from 'express';
import { InvalidParamsError } from '../lib/errors';
import type { Caller } from '../lib/access/caller';
import { jobView, type SyncJobActor } from '../lib/jobs/sync-job';
import type { SyncJobs } from '../lib/jobs/sync-jobs';
import type { FeedStatus } from '../lib/feed/feed-status';
import {
  applyPlanBodySchema,
  cancelRunBodySchema,
  discardFeedBodySchema,
  DEFAULT_CHANGES_PAGE,
  DEFAULT_JOB_LIST_LIMIT,
  listChangesQuerySchema,
  listRunsQuerySchema,
  startRunBodySchema,
} from '../lib/jobs/run-requests';
import { plannedChangeView } from '../lib/jobs/staged-change';
import { detailsOf, holdBackJsonErrors, validBody, type Admit } from './admin-gate';

export const SYNC_JOBS_PATH = '/abac/users/sync/jobs';
export const FEED_PATH = '/abac/users/sync/feed';
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
  const body = holdBackJsonErrors(deps.bodyLimitBytes);
  router.post(SYNC_JOBS_PATH, body, async (req: Request, res: Response) => {
    const caller = await deps.admit(req);
    const { dryRun = false } = validBody(req, res, startRunBodySchema, deps.bodyLimitBytes, {
      optional: true,
    });
    const job = await jobs.start({
      trigger: 'admin',
      admin: { _id: caller._id, username: caller.username },
      dryRun,
    });
    res.status(202).json({ success: true, job: jobView(job) });
  });

  router.get(SYNC_JOBS_PATH, async (req: Request, res: Response) => {
    await deps.admit(req, 'reads');
    const query = listRunsQuerySchema.safeParse(req.query);
    if (!query.success) throw new InvalidParamsError(detailsOf(query.error.issues));
    const count = query.data.count ?? query.data.limit ?? DEFAULT_JOB_LIST_LIMIT;
    const offset = query.data.offset ?? 0;
    const list = await jobs.list(count, offset);
    res.status(200).json({
      success: true,
      jobs: list.jobs.map(jobView),
      count: list.jobs.length,
      offset,
      total: list.total,
    });
  });

  const { feedStatus, discardFeedBlock } = deps;
  if (feedStatus)
    router.get(FEED_PATH, async (req: Request, res: Response) => {
      await deps.admit(req, 'reads');
      res.status(200).json({ success: true, feed: await feedStatus() });
    });
  if (discardFeedBlock)
    router.post(`${FEED_PATH}/discard`, body, async (req: Request, res: Response) => {
      const caller = await deps.admit(req, 'never');
      validBody(req, res, discardFeedBodySchema, deps.bodyLimitBytes, { optional: true });
      res.status(200).json({ success: true, feed: await discardFeedBlock(adminActor(caller)) });
    });

  router.get(`${SYNC_JOBS_PATH}/:jobId`, async (req: Request, res: Response) => {
    await deps.admit(req, 'reads');
    res.status(200).json({ success: true, job: jobView(await jobs.get(String(req.params.jobId))) });
  });

  router.get(`${SYNC_JOBS_PATH}/:jobId/changes`, async (req: Request, res: Response) => {
    await deps.admit(req, 'reads');
    const query = listChangesQuerySchema.safeParse(req.query);
    if (!query.success) throw new InvalidParamsError(detailsOf(query.error.issues));
    const { stale, count, limit, offset = 0, ...rest } = query.data;
    if (rest.cursor !== undefined && offset > 0)
      throw new InvalidParamsError([{ path: 'offset', message: 'give a cursor or an offset, not both' }]);
    const page = await jobs.changes(String(req.params.jobId), {
      ...rest,
      stale: stale === 'true',
      offset,
      limit: count ?? limit ?? DEFAULT_CHANGES_PAGE,
    });
    res.status(200).json({
      success: true,
      changes: page.changes.map(plannedChangeView),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      count: page.changes.length,
      offset,
      total: page.total,
    });
  });

  router.post(`${SYNC_JOBS_PATH}/:jobId/apply`, body, async (req: Request, res: Response) => {
    const caller = await deps.admit(req);
    validBody(req, res, applyPlanBodySchema, deps.bodyLimitBytes, { optional: true });
    const job = await jobs.apply(String(req.params.jobId), {
      trigger: 'admin',
      admin: { _id: caller._id, username: caller.username },
    });
    res.status(202).json({ success: true, job: jobView(job) });
  });

  router.post(`${SYNC_JOBS_PATH}/:jobId/cancel`, body, async (req: Request, res: Response) => {
    const caller = await deps.admit(req, 'never');
    validBody(req, res, cancelRunBodySchema, deps.bodyLimitBytes, { optional: true });
    const job = await jobs.cancel(String(req.params.jobId), adminActor(caller));
    res.status(200).json({ success: true, job: jobView(job) });
  });
}
