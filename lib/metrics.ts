import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import type { PhaseDurations } from './sync/phase-timer';
import type { SyncSummary } from './sync/sync-report';

/** What the module reports about its work; the Prometheus implementation below, or a host's own. */
export interface SyncMetrics {
  /** One answer of the route: `outcome` is completed, dry_run, rejected (4xx) or failed (5xx). */
  requestAnswered(answer: { outcome: RequestOutcome; code?: string; seconds: number }): void;
  /** One sync that ran to the end (dry runs included). */
  syncCompleted(sync: {
    dryRun: boolean;
    summary: SyncSummary;
    ldapSearchRoundTrips: number;
    durationsMs: PhaseDurations;
  }): void;
  /** Audit events that could not be stored (they wait in the users' outboxes for the next sync). */
  auditWritesFailed(count: number): void;
  /** A directory-wide run's batch: users planned, or staged changes applied, and where the phase stands. */
  runProgressed(progress: {
    phase: 'planning' | 'applying';
    done: number;
    processed: number;
    total: number;
  }): void;
  /** A directory-wide run that ended (this process ran its end). */
  runFinished(run: { outcome: RunOutcome; trigger: string; seconds: number }): void;
  /**
   * One poll of the changed-entries feed: changes read that were new, changes applied, how long it took,
   * and, when it succeeded, when (Unix seconds) it began.
   */
  feedPolled(poll: {
    outcome: 'ok' | 'failed';
    seen: number;
    applied: number;
    seconds: number;
    at: number;
  }): void;
}

export type RunOutcome = 'completed' | 'failed' | 'cancelled' | 'blocked';

export type RequestOutcome = 'completed' | 'dry_run' | 'rejected' | 'failed';

const USER_STATUSES = ['updated', 'cleared', 'unchanged', 'notFoundInLdap', 'failed'] as const;
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * prom-client counters and histograms on the host's registry (prom-client's default one otherwise). A
 * metric already on the registry is reused, so two routers on one registry add to the same series.
 */
export class PrometheusSyncMetrics implements SyncMetrics {
  private readonly requests: Counter<'outcome'>;
  private readonly errors: Counter<'code'>;
  private readonly requestSeconds: Histogram<'outcome'>;
  private readonly users: Counter<'status'>;
  private readonly evictions: Counter;
  private readonly ldapRoundTrips: Counter;
  private readonly phaseSeconds: Histogram<'phase'>;
  private readonly auditFailures: Counter;
  private readonly runs: Counter<'outcome' | 'trigger'>;
  private readonly runUsers: Counter<'phase'>;
  private readonly runProgress: Gauge<'phase'>;
  private readonly runSeconds: Histogram<'outcome'>;
  private readonly feedPolls: Counter<'outcome'>;
  private readonly feedPollSeconds: Histogram<'outcome'>;
  private readonly feedChanges: Counter<'stage'>;
  private readonly feedLastSuccess: Gauge;

  constructor(registry: Registry = defaultRegistry) {
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter({ name, help, labelNames, registers: [registry] });
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      (registry.getSingleMetric(name) as Histogram<L> | undefined) ??
      new Histogram({ name, help, labelNames, buckets: SECONDS_BUCKETS, registers: [registry] });

    this.requests = counter('abac_ldap_sync_requests_total', 'Answers of the sync route by outcome', [
      'outcome',
    ]);
    this.errors = counter('abac_ldap_sync_errors_total', 'Error answers of the sync route by code', ['code']);
    this.requestSeconds = histogram(
      'abac_ldap_sync_request_duration_seconds',
      'Time to answer the sync route, by outcome',
      ['outcome'],
    );
    this.users = counter('abac_ldap_sync_users_total', 'Users synced, by result status (dry runs excluded)', [
      'status',
    ]);
    this.evictions = counter(
      'abac_ldap_sync_evictions_total',
      'Users removed from ABAC rooms (one per user and room)',
    );
    this.ldapRoundTrips = counter('abac_ldap_sync_ldap_search_round_trips_total', 'LDAP search round trips');
    this.phaseSeconds = histogram(
      'abac_ldap_sync_phase_duration_seconds',
      'Time per sync spent in each phase (ldap is the directory latency)',
      ['phase'],
    );
    this.auditFailures = counter(
      'abac_ldap_sync_audit_write_failures_total',
      "Audit events that could not be stored (kept in the user's outbox and written by a later sync)",
    );
    this.runs = counter('abac_ldap_sync_runs_total', 'Directory-wide runs ended, by outcome and trigger', [
      'outcome',
      'trigger',
    ]);
    this.runUsers = counter(
      'abac_ldap_sync_run_users_processed_total',
      'Directory-wide runs: users planned, and staged changes applied',
      ['phase'],
    );
    this.runProgress =
      (registry.getSingleMetric('abac_ldap_sync_run_progress_ratio') as Gauge<'phase'> | undefined) ??
      new Gauge({
        name: 'abac_ldap_sync_run_progress_ratio',
        help: "The running directory-wide run's progress in its phase (0 to 1), as this process last saw it",
        labelNames: ['phase'],
        registers: [registry],
      });
    this.runSeconds =
      (registry.getSingleMetric('abac_ldap_sync_run_duration_seconds') as Histogram<'outcome'> | undefined) ??
      new Histogram({
        name: 'abac_ldap_sync_run_duration_seconds',
        help: 'Directory-wide runs: time from start to end, by outcome',
        labelNames: ['outcome'],
        buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
        registers: [registry],
      });
    this.feedPolls = counter('abac_ldap_sync_feed_polls_total', 'Changed-entries feed polls, by outcome', [
      'outcome',
    ]);
    this.feedPollSeconds = histogram(
      'abac_ldap_sync_feed_poll_duration_seconds',
      'Changed-entries feed: time per poll (read, match, sync), by outcome',
      ['outcome'],
    );
    this.feedChanges = counter(
      'abac_ldap_sync_feed_changes_total',
      'Changed-entries feed: changed entries seen (new since the watermark) and applied',
      ['stage'],
    );
    this.feedLastSuccess =
      (registry.getSingleMetric('abac_ldap_sync_feed_last_success_timestamp_seconds') as Gauge | undefined) ??
      new Gauge({
        name: 'abac_ldap_sync_feed_last_success_timestamp_seconds',
        help: 'When the last successful feed poll began (the lag is time() minus this)',
        registers: [registry],
      });
    for (const status of USER_STATUSES) this.users.inc({ status }, 0);
    this.evictions.inc(0);
    this.auditFailures.inc(0);
  }

  requestAnswered({ outcome, code, seconds }: { outcome: RequestOutcome; code?: string; seconds: number }) {
    this.requests.inc({ outcome });
    this.requestSeconds.observe({ outcome }, seconds);
    if (code) this.errors.inc({ code });
  }

  syncCompleted(sync: Parameters<SyncMetrics['syncCompleted']>[0]) {
    this.ldapRoundTrips.inc(sync.ldapSearchRoundTrips);
    for (const [phase, ms] of Object.entries(sync.durationsMs))
      this.phaseSeconds.observe({ phase }, ms / 1000);
    if (sync.dryRun) return;
    for (const status of USER_STATUSES) this.users.inc({ status }, sync.summary[status]);
    this.evictions.inc(sync.summary.roomsRevoked);
  }

  auditWritesFailed(count: number) {
    this.auditFailures.inc(count);
  }

  runProgressed({ phase, done, processed, total }: Parameters<SyncMetrics['runProgressed']>[0]) {
    this.runUsers.inc({ phase }, done);
    this.runProgress.set({ phase }, total > 0 ? processed / total : 1);
  }

  runFinished({ outcome, trigger, seconds }: Parameters<SyncMetrics['runFinished']>[0]) {
    this.runs.inc({ outcome, trigger });
    this.runSeconds.observe({ outcome }, seconds);
  }

  feedPolled({ outcome, seen, applied, seconds, at }: Parameters<SyncMetrics['feedPolled']>[0]) {
    this.feedPolls.inc({ outcome });
    this.feedPollSeconds.observe({ outcome }, seconds);
    this.feedChanges.inc({ stage: 'seen' }, seen);
    this.feedChanges.inc({ stage: 'applied' }, applied);
    if (outcome === 'ok') this.feedLastSuccess.set(at);
  }
}

export const noMetrics: SyncMetrics = {
  requestAnswered: () => undefined,
  syncCompleted: () => undefined,
  auditWritesFailed: () => undefined,
  runProgressed: () => undefined,
  runFinished: () => undefined,
  feedPolled: () => undefined,
};
