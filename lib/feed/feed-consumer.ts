import type { Clock } from '../clock';
import { errorFields } from '../error-fields';
import { FeedNotBlockedError, SyncAlreadyRunningError } from '../errors';
import { reportedError } from '../reported-error';
import type { SyncJobs } from '../jobs/sync-jobs';
import type { SyncJobStore } from '../jobs/job-store';
import { actorName, type SyncJobActor } from '../jobs/sync-job';
import type { Directory, DirectorySession } from '../ldap/directory';
import type { Logger } from '../logger';
import type { SyncMetrics } from '../metrics';
import { performance } from 'node:perf_hooks';
import { PROCESS_NAME } from '../process-name';
import { randomId } from '../random-id';
import type { SettingsSnapshot, SettingsSource } from '../settings';
import type { AbacLdapSyncService } from '../sync/abac-ldap-sync-service';
import { switchedOff, syncConfiguration, type SyncConfiguration } from '../sync/sync-configuration';
import type { ChangeFeed, FeedChange, FeedSearch } from './change-feed';
import { isRepeat, newChanges, positionAfter, type FeedPosition } from './feed-position';
import type { FeedState, FeedStore } from './feed-store';
import type { FeedGuard } from './feed-guard';
import { identifiersFor, type FeedIdentifiers } from './feed-identifiers';
import type { ApplicablePlan } from '../jobs/run-plan';
import { guardThresholds } from '../jobs/revocation-guard';
import { feedStatus, type FeedStatus } from './feed-status';
import { feedSearchOf, feedSettings } from './feed-settings';
import {
  groupKeys,
  progressAfter,
  reconcileDue,
  staleHolders,
  watchedGroups,
  type ReconcileProgress,
} from './held-groups';

/** Users checked per poll by the reconciliation of held group DNs: one MongoDB read each. */
export const RECONCILE_SLICE = 5000;
/** The audit reason of the feed's changes. */
export const FEED_REASON = 'ldap-change-feed';
/** The feed's audit actor: the system, named as the feed. */
export const FEED_ACTOR = { type: 'system', jobId: 'change-feed' } as const;
export interface FeedOptions {
  /** Changes applied together; the watermark moves after each batch. */
  feedBatchSize: number;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = { feedBatchSize: 100 };

export interface FeedConsumerPorts {
  feed: ChangeFeed;
  directory: Directory;
  engine: AbacLdapSyncService;
  store: FeedStore;
  /** A directory that went back in time gets a directory-wide run. */
  jobs: Pick<SyncJobs, 'start'>;
  /** Where a blocked batch's run is read (its plan applied or not). */
  runs: Pick<SyncJobStore, 'get' | 'markDiscarded'>;
  guard: FeedGuard;
  /** Read again before every batch: ABAC_Enabled or LDAP_Enable off stops the poll there. */
  settings: SettingsSource;
  clock: Clock;
  logger: Logger;
  metrics: SyncMetrics;
}

/**
 * One poll of the changed-entries feed: reads what changed since the watermark and syncs the users those
 * changes reach through the same engine as a named-users request (system actor, reason ldap-change-feed),
 * in batches, moving the watermark after each applied batch. A fault leaves the watermark where it was:
 * the next poll reads the same changes again. Nothing is evicted because of a fault: the engine applies
 * nothing it did not read to the end.
 */
export class FeedConsumer {
  /** The watched groups listed at the start of the reconciliation pass under way (this process's). */
  private groupListing: { passStartedAt: number; groups: ReadonlySet<string> } | undefined;

  constructor(
    private readonly ports: FeedConsumerPorts,
    private readonly options: FeedOptions = DEFAULT_FEED_OPTIONS,
  ) {}

  /**
   * Takes or renews the feed for the consumer `token` (this process): false while another live consumer
   * holds it. Only the holder polls, so two processes that both run the feed's task never both apply.
   */
  hold(token: string, staleAfterMs: number): Promise<boolean> {
    const now = this.ports.clock.now();
    return this.ports.store.hold({ token, name: PROCESS_NAME }, new Date(now), new Date(now - staleAfterMs));
  }

  /**
   * An admin discards the blocked changes: the feed moves past them at its next poll, applying nothing; the
   * blocked run records who discarded them.
   */
  async discard(snapshot: SettingsSnapshot, by: SyncJobActor): Promise<FeedStatus> {
    const { store, runs, logger } = this.ports;
    const { blocked } = await store.state();
    if (!blocked || !(await store.discard())) throw new FeedNotBlockedError();
    await runs.markDiscarded(blocked.jobId, by, this.now());
    logger.info({ jobId: blocked.jobId, by: actorName(by) }, 'blocked change feed changes discarded');
    return this.status(snapshot);
  }

  letGo(token: string): Promise<void> {
    return this.ports.store.letGo(token);
  }

  /** The feed as the status route shows it. */
  async status(snapshot: SettingsSnapshot): Promise<FeedStatus> {
    return feedStatus(await this.ports.store.state(), snapshot, this.ports.clock.now());
  }

  /**
   * One poll by the consumer `token` (which holds the feed). Resolves with the number of changes applied;
   * rejects on a fault (recorded in the feed's state), and with FeedHoldLostError, recording nothing more,
   * when another consumer has taken the feed over.
   */
  async poll(snapshot: SettingsSnapshot, token: string): Promise<number> {
    const { store, clock, logger, metrics } = this.ports;
    const startedAt = new Date(clock.now());
    const started = performance.now();
    const counts = { seen: 0, applied: 0 };
    const measured = (outcome: 'ok' | 'failed') =>
      metrics.feedPolled({
        outcome,
        ...counts,
        seconds: (performance.now() - started) / 1000,
        at: startedAt.getTime() / 1000,
      });
    try {
      await this.pollOnce(snapshot, token, counts);
      await store.polled(startedAt);
      measured('ok');
      return counts.applied;
    } catch (error) {
      measured('failed');
      if (error instanceof FeedHoldLostError) {
        logger.info({}, 'change feed taken over by another process; this one stopped polling');
        throw error;
      }
      const reported =
        error instanceof FeedPollError
          ? { code: error.code, message: error.message }
          : reportedError(error, 'The feed poll');
      logger.warn({ code: reported.code, err: errorFields(error) }, 'change feed poll failed; retried');
      await store.polled(startedAt, reported).catch(() => undefined);
      throw error;
    }
  }

  /** Counts into `counts` as it goes, so a poll that fails part-way reports what it applied. */
  private async pollOnce(
    snapshot: SettingsSnapshot,
    token: string,
    counts: { seen: number; applied: number },
  ): Promise<void> {
    const { feed, directory, store, logger } = this.ports;
    const configuration = syncConfiguration(snapshot);
    const search = feedSearchOf(configuration, snapshot);
    const state = await store.state();
    if (state.blocked) {
      await this.settleBlock(token, state.blocked);
      return;
    }
    const session = await directory.open(configuration.connection);
    try {
      if (!state.position) {
        const start = await feed.start(session, search);
        if (!start) throw new FeedNoChangeTimesError();
        await this.held(store.restart(token, start, this.now()));
        logger.info({ watermark: start?.watermark }, 'change feed started at the directory’s newest change');
        return;
      }
      const read = await feed.read(session, search, state.position);
      if (read.restored) {
        await this.startOver(session, search, token);
        return;
      }
      const fresh = newChanges(read.changes, state.position);
      // Entries synced again at the watermark (see newChanges) are not new changes.
      counts.seen = fresh.filter((change) => !isRepeat(change, state.position)).length;
      const reconciling = await this.reconcileSlice(
        session,
        search,
        configuration,
        snapshot,
        state.reconcile,
      );
      const batches: FeedChange[][] = [];
      const { feedBatchSize } = this.options;
      for (let start = 0; start < fresh.length; start += feedBatchSize)
        batches.push(fresh.slice(start, start + feedBatchSize));
      const identifiers: FeedIdentifiers[] = [];
      for (const batch of batches)
        identifiers.push(await this.identifiers(session, configuration, search, batch));
      if (reconciling && reconciling.holders.length > 0) {
        // A batch of no changes: the watermark stays, the holders are synced under the same guard.
        batches.push([]);
        identifiers.push({ usernames: [], ldapIds: [], ids: reconciling.holders });
      }
      if (batches.length > 0)
        await this.applyGuarded(token, state.position, batches, identifiers, configuration, snapshot, counts);
      if (reconciling) await this.held(store.reconciled(token, reconciling.progress, this.now()));
    } finally {
      await session.close();
    }
  }

  /**
   * The next slice of the reconciliation of held group DNs, when one is due: the users of the slice who
   * hold a DN the directory no longer lists as a watched group, and the pass's progress after the slice.
   */
  private async reconcileSlice(
    session: DirectorySession,
    search: FeedSearch,
    configuration: SyncConfiguration,
    snapshot: SettingsSnapshot,
    progress: ReconcileProgress | undefined,
  ): Promise<{ holders: string[]; progress: ReconcileProgress } | undefined> {
    const keys = groupKeys(configuration.mapping);
    const pass = reconcileDue(progress, this.now(), feedSettings(snapshot).reconcileMs);
    if (keys.length === 0 || !search.groups || !pass) return undefined;
    const passStartedAt = new Date(pass.startedAt).getTime();
    if (this.groupListing?.passStartedAt !== passStartedAt)
      this.groupListing = { passStartedAt, groups: (await watchedGroups(session, search)) ?? new Set() };
    const users = await this.ports.store.holdersOf(keys, pass.after, RECONCILE_SLICE);
    const holders = staleHolders(users, this.groupListing.groups);
    const next = progressAfter(pass, users, RECONCILE_SLICE, this.now());
    if (next.completedAt) this.groupListing = undefined;
    if (holders.length > 0)
      this.ports.logger.info(
        { users: holders.length },
        'users hold group DNs the directory no longer lists: they are synced',
      );
    return { holders, progress: next };
  }

  /** A blocked feed moves on once an admin applied the blocked run's plan, or discarded it. */
  private async settleBlock(token: string, blocked: NonNullable<FeedState['blocked']>): Promise<void> {
    const { runs, store, logger } = this.ports;
    const job = await runs.get(blocked.jobId);
    const applying = job?.appliedBy ? await runs.get(job.appliedBy) : undefined;
    if (!blocked.discarded && applying?.state !== 'completed') return;
    const applied = blocked.discarded ? 0 : (job?.progress.total ?? 0);
    await this.held(store.unblock(token, applied, this.now()));
    logger.info(
      { jobId: blocked.jobId, outcome: blocked.discarded ? 'discarded' : 'applied' },
      'change feed resumed after its blocked changes',
    );
  }

  private identifiers(
    session: DirectorySession,
    configuration: SyncConfiguration,
    search: FeedSearch,
    changes: readonly FeedChange[],
  ): Promise<FeedIdentifiers> {
    return identifiersFor(session, configuration, search, changes, (value) =>
      this.ports.store.usersHoldingValue(value),
    );
  }

  /**
   * Plans the whole poll, lets the guard admit it or keep it blocked for review, then applies it batch by
   * batch, moving the watermark after each.
   */
  private async applyGuarded(
    token: string,
    from: FeedPosition,
    batches: readonly FeedChange[][],
    identifiers: readonly FeedIdentifiers[],
    configuration: SyncConfiguration,
    snapshot: SettingsSnapshot,
    counts: { applied: number },
  ): Promise<void> {
    const { guard, engine, store, logger } = this.ports;
    const { overlap } = feedSettings(snapshot);
    const plan = await guard.plan(identifiers, configuration);
    const admission = await guard.admit(plan, guardThresholds(snapshot));
    if (!admission.admitted) {
      const after = positionAfter(batches.flat(), from, overlap)!;
      await this.held(store.block(token, { jobId: admission.jobId, position: after }, this.now()));
      logger.warn(
        { jobId: admission.jobId, changes: batches.flat().length, ...admission.guard },
        'change feed blocked: these changes take values from too many users; nothing was applied',
      );
      return;
    }
    const applied: ApplicablePlan[] = [];
    // Each batch is a change set of its own: its id is what undo takes (logged below, and on its events).
    const requestIds: string[] = [];
    let position = from;
    try {
      for (const [index, batch] of batches.entries()) {
        // The emergency stop: the batches after the switch are read again once it is on.
        const off = switchedOff(await this.ports.settings.current());
        if (off) throw off;
        const plans = plan.batches[index]!;
        const requestId = randomId();
        requestIds.push(requestId);
        await engine.applyPlans(plans, plan.rooms, {
          actor: FEED_ACTOR,
          requestId,
          reason: FEED_REASON,
          writeUnclaimed: true,
        });
        applied.push(...plans);
        // A user another writer held (a directory-wide run applying, a request): the batch is read again.
        const held = plans.filter((planned) => planned.result.error === 'error-write-conflict').length;
        if (held > 0) throw new FeedBatchHeldError(held);
        const changes = batch.filter((change) => !isRepeat(change, from)).length;
        position = positionAfter(batch, position, overlap)!;
        await this.held(store.advance(token, position, changes, this.now()));
        counts.applied += changes;
      }
    } finally {
      await guard.settle(plan, applied).catch((error: unknown) =>
        // The entry keeps the plan's figure: the window over-counts, never under-counts.
        logger.warn({ err: errorFields(error) }, 'the guard window’s entry of a feed poll not corrected'),
      );
    }
    if (counts.applied > 0)
      logger.info(
        { changes: counts.applied, watermark: position.watermark, requestIds },
        'change feed applied',
      );
  }

  /** The directory went back in time: a directory-wide run puts everyone right; the feed starts from now. */
  private async startOver(session: DirectorySession, search: FeedSearch, token: string): Promise<void> {
    const { feed, store, jobs, logger } = this.ports;
    logger.warn(
      {},
      'the directory went back in time (restored from a backup?): a directory-wide run is queued',
    );
    try {
      await jobs.start({ trigger: 'schedule', dryRun: false });
    } catch (error) {
      if (!(error instanceof SyncAlreadyRunningError)) throw error;
    }
    await this.held(store.restart(token, await feed.start(session, search), this.now()));
  }

  private async held(write: Promise<boolean>): Promise<void> {
    if (!(await write)) throw new FeedHoldLostError();
  }

  private now(): Date {
    return new Date(this.ports.clock.now());
  }
}

/** Another consumer holds the feed now: this one stops, having recorded nothing more. */
export class FeedHoldLostError extends Error {
  constructor() {
    super('another consumer holds the change feed');
  }
}

/** A poll that ended on a condition of its own, reported in the feed's state as its code and message. */
abstract class FeedPollError extends Error {
  abstract readonly code: string;
}

/**
 * No entry under the user search shows a change time: the feed has nowhere to start, and says why instead
 * of starting again at every poll. It starts at the first poll that finds one.
 */
class FeedNoChangeTimesError extends FeedPollError {
  readonly code = 'error-feed-no-change-times';
  constructor() {
    super(
      'No entry under the user search shows a change time (entryCSN, modifyTimestamp or createTimestamp), ' +
        'so the feed has nowhere to start: check the user search settings, and that the bind account may ' +
        'read these attributes',
    );
  }
}

/** Users of a batch were held by another writer: the watermark stays, and the next poll applies the batch again. */
class FeedBatchHeldError extends FeedPollError {
  readonly code = 'error-write-conflict';
  constructor(readonly users: number) {
    super(`${users} users of the batch were being written by another sync`);
  }
}
