import { ConnectionStates, type Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import { createModels, ensureIndexes, type Models } from '../models';
import { DeferredWork } from '../lib/deferred-work';
import { HealthCheck } from '../lib/health';
import { MongoSyncJobStore } from '../mongo/mongo-job-store';
import { MongoRoomMemberRemover } from '../mongo/room-member-remover';
import { MongoSyncStore } from '../mongo/mongo-sync-store';
import { systemClock, type Clock } from '../lib/clock';
import { AgendaRunner, DEFAULT_RUNNER_OPTIONS, type RunnerOptions } from '../lib/jobs/agenda-runner';
import { DEFAULT_RUN_OPTIONS, FullSyncRun, type FullSyncRunOptions } from '../lib/jobs/full-sync-run';
import { SyncJobs } from '../lib/jobs/sync-jobs';
import { DEFAULT_FEED_OPTIONS, FeedConsumer, type FeedOptions } from '../lib/feed/feed-consumer';
import { FeedGuard } from '../lib/feed/feed-guard';
import { TimestampChangeFeed } from '../lib/feed/timestamp-change-feed';
import type { FeedStatus } from '../lib/feed/feed-status';
import type { SyncJobActor } from '../lib/jobs/sync-job';
import { MongoFeedStore } from '../mongo/mongo-feed-store';
import { MongoRevocationLedger } from '../mongo/mongo-revocation-ledger';
import { RevocationBudget } from '../lib/jobs/revocation-budget';
import type { Directory } from '../lib/ldap/directory';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import { DEFAULT_MAP_WORKER_OPTIONS, workerEntryMaps, type MapWorkerOptions } from './worker-entry-maps';
import { DEFAULT_LDAP_POOL, PooledDirectory, type LdapPoolOptions } from '../lib/ldap/pooled-directory';
import { createDefaultLogger, type Logger } from '../lib/logger';
import { noMetrics, PrometheusSyncMetrics, type SyncMetrics } from '../lib/metrics';
import type { SettingId } from '../lib/settings';
import { MongoSettingsSource } from '../mongo/mongo-settings-source';
import { registerOwnSettings } from '../mongo/settings-registration';
import { MongoUndoStore } from '../mongo/mongo-undo-store';
import { SyncUndo } from '../lib/undo/sync-undo';
import { UndoPlanner } from '../lib/undo/undo-planner';
import { AbacLdapSyncService } from '../lib/sync/abac-ldap-sync-service';
import { AuditEvents } from '../lib/sync/audit-events';
import type { RoomMemberRemover } from '../lib/sync/room-member-remover';
import type { RoomMemberRestorer } from '../lib/sync/room-member-restorer';
import { MongoRoomMemberRestorer } from '../mongo/room-member-restorer';

/** What the sync needs whether it serves HTTP (createRouter) or runs from the CLI. */
export interface SyncCoreDeps {
  /** The host's mongoose connection (never the global mongoose). */
  connection: Connection;
  logger?: Logger;
  /** Values that take precedence over rocketchat_settings. */
  settings?: Partial<Record<SettingId, unknown>>;
  /** How long settings are reused before a re-read (default 5000 ms). */
  settingsCacheTtlMs?: number;
  clock?: Clock;
  directory?: Directory;
  /** Replaces the built-in room member remover. */
  memberRemover?: RoomMemberRemover;
  /** Replaces the built-in room member restorer (undo gives memberships back through it). */
  memberRestorer?: RoomMemberRestorer;
  /** Where the Prometheus metrics go (default: prom-client's default registry); false: none. */
  metricsRegistry?: Registry | false;
  /** Bound LDAP connections kept between syncs (default 4 per server, closed after 30 s idle); false: none. */
  ldapPool?: Partial<LdapPoolOptions> | false;
  /**
   * Directory-wide runs: this process takes part in running them and in the schedule (timings and batch
   * sizes may be tuned); false: it only queues runs for other processes.
   */
  jobRunner?: Partial<RunnerOptions & FullSyncRunOptions & FeedOptions & MapWorkerOptions> | false;
}

export interface SyncCore {
  models: Models;
  settings: MongoSettingsSource;
  clock: Clock;
  logger: Logger;
  metrics: SyncMetrics;
  /** The named-users sync. */
  service: AbacLdapSyncService;
  /** Directory-wide runs: start, read, list, cancel. */
  jobs: SyncJobs;
  /** Undo: plans that take a change set back, applied as any kept plan. */
  undo: SyncUndo;
  /** The changed-entries feed's status, as GET /feed shows it. */
  feedStatus(): Promise<FeedStatus>;
  /** What a load balancer may know: MongoDB, the directory, the runner and the feed, up or down. */
  health: HealthCheck;
  /** Discards the changes the guard stopped; throws FeedNotBlockedError when there are none. */
  discardFeedBlock(by: SyncJobActor): Promise<FeedStatus>;
  /** Resolves when the work that follows answers already sent (the audit outboxes' clearing) is done. */
  idle(): Promise<void>;
  /**
   * Stops taking part in runs (a run here is left for another process), finishes the work that follows
   * answers already sent, closes LDAP connections.
   */
  close(): Promise<void>;
}

/** Wires the sync and the directory-wide runs: the one place that knows their concrete classes. */
export async function createSyncCore(deps: SyncCoreDeps): Promise<SyncCore> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createDefaultLogger();
  const models = createModels(deps.connection);
  const metrics =
    deps.metricsRegistry === false ? noMetrics : new PrometheusSyncMetrics(deps.metricsRegistry);
  const settings = new MongoSettingsSource({
    settings: models.settings,
    clock,
    cacheTtlMs: deps.settingsCacheTtlMs ?? 5000,
    overrides: deps.settings,
  });
  await ensureIndexes(models, logger);
  await registerOwnSettings(models.settings, new Date(clock.now()));

  const baseDirectory = deps.directory ?? new LdaptsDirectory(logger);
  const pool =
    deps.ldapPool === false
      ? undefined
      : new PooledDirectory(baseDirectory, { ...DEFAULT_LDAP_POOL, ...deps.ldapPool });
  const store = new MongoSyncStore({ models, clock, logger, metrics });
  const deferredWork = new DeferredWork(logger);
  const service = new AbacLdapSyncService({
    store,
    settings,
    directory: pool ?? baseDirectory,
    memberRemover: deps.memberRemover ?? new MongoRoomMemberRemover({ ...models, clock }),
    memberRestorer: deps.memberRestorer ?? new MongoRoomMemberRestorer({ ...models, clock }),
    audit: new AuditEvents(clock),
    logger,
    metrics,
    clock,
    deferredWork,
  });
  const jobStore = new MongoSyncJobStore(models);
  const undoStore = new MongoUndoStore(models);
  const runnerOptions =
    deps.jobRunner === false
      ? undefined
      : {
          ...DEFAULT_RUNNER_OPTIONS,
          ...DEFAULT_RUN_OPTIONS,
          ...DEFAULT_FEED_OPTIONS,
          ...DEFAULT_MAP_WORKER_OPTIONS,
          ...deps.jobRunner,
        };
  // Every path that writes without an admin (the runs, the feed) is judged against one shared window.
  const budget = new RevocationBudget({
    ledger: new MongoRevocationLedger(models.revocationEntries),
    clock,
  });
  // The map goes to a worker thread when the run reads with the built-in LDAP client (an injected directory
  // cannot cross into another thread).
  const heapLimitMb = runnerOptions?.mapHeapLimitMb ?? false;
  const readEntryMap =
    deps.directory === undefined && heapLimitMb !== false
      ? workerEntryMaps({ heapLimitMb, logger })
      : undefined;
  const run = new FullSyncRun(
    {
      engine: service,
      settings,
      store,
      jobs: jobStore,
      budget,
      clock,
      logger,
      metrics,
      ...(readEntryMap ? { readEntryMap } : {}),
      undo: new UndoPlanner({ undo: undoStore, users: store }),
    },
    runnerOptions,
  );
  // Read uncached for the schedule and plan retention: they are read every few seconds anyway, and a read
  // there must not hold the request path's cached snapshot back.
  const uncachedSettings = new MongoSettingsSource({
    settings: models.settings,
    clock,
    cacheTtlMs: 0,
    overrides: deps.settings,
  });
  // The runner and the runs' service need each other (runs are queued on the runner; the feed queues a
  // run when the directory went back in time): the feed reaches the service through this getter.
  let jobs: SyncJobs | undefined;
  const feedStore = new MongoFeedStore(models);
  const feed = new FeedConsumer(
    {
      feed: new TimestampChangeFeed(),
      directory: pool ?? baseDirectory,
      engine: service,
      store: feedStore,
      jobs: { start: (request) => jobs!.start(request) },
      runs: jobStore,
      guard: new FeedGuard({ engine: service, users: store, jobs: jobStore, budget, clock }),
      settings: uncachedSettings,
      clock,
      logger,
      metrics,
    },
    runnerOptions ?? DEFAULT_FEED_OPTIONS,
  );
  const runner = new AgendaRunner(
    {
      db: deps.connection.db!,
      run,
      feed,
      settings: uncachedSettings,
      logger,
    },
    runnerOptions ?? DEFAULT_RUNNER_OPTIONS,
  );
  jobs = new SyncJobs({
    jobs: jobStore,
    undoJournal: undoStore,
    settings: uncachedSettings,
    queue: runner,
    checkSettings: () => service.configuration(),
    clock,
    logger,
  });
  if (runnerOptions) await runner.start(jobs);

  const feedStatus = async () => feed.status(await uncachedSettings.current());
  const health = new HealthCheck({
    pingDatabase: async () => {
      const db = deps.connection.db;
      if (!db || deps.connection.readyState !== ConnectionStates.connected) throw new Error('not connected');
      await db.command({ ping: 1 });
    },
    settings: uncachedSettings,
    directory: pool ?? baseDirectory,
    runnerActive: runnerOptions !== undefined,
    feedStatus,
    clock,
  });
  return {
    models,
    settings,
    clock,
    logger,
    metrics,
    service,
    jobs,
    undo: new SyncUndo({ undo: undoStore, jobs: jobStore, runs: jobs }),
    feedStatus,
    health,
    discardFeedBlock: async (by) => feed.discard(await uncachedSettings.current(), by),
    idle: () => deferredWork.settled(),
    close: async () => {
      await runner.stop();
      await deferredWork.settled();
      await pool?.close();
    },
  };
}
