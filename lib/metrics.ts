import { Counter, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
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
}

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
}

export const noMetrics: SyncMetrics = {
  requestAnswered: () => undefined,
  syncCompleted: () => undefined,
  auditWritesFailed: () => undefined,
};
