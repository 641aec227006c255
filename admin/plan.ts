import { useEffect, useState } from 'preact/hooks';
import { call, type ApiError, type Credentials } from './api';
import { ErrorBox, html, UserChangesTable, type Attribute } from './ui';
import { planAge } from './plan-age';
import { guardText } from './guard-text';

export interface PlannedJob {
  _id: string;
  state: string;
  dryRun: boolean;
  summary: Record<string, number>;
  finishedAt?: string;
  /** The run that applied (or is applying) this plan. */
  appliedBy?: string;
  guard?: {
    revokedUsers: number;
    clearedUsers: number;
    evictions: number;
    usersInRun: number;
    thresholdPercent: number;
    thresholdUsers: number;
    recentRevokedUsers?: number;
    windowMinutes?: number;
  };
}

interface PlannedChange {
  _id: string;
  username: string;
  status: string;
  added?: Attribute[];
  removed?: Attribute[];
  roomsRevoked: { _id: string; name: string }[];
  stale?: true;
}

const PAGE_SIZE = 50;

/** Whether a run keeps a plan to review: a completed dry run, or a blocked run. */
export function keepsPlan(job: { state: string; dryRun: boolean }): boolean {
  return (job.dryRun && job.state === 'completed') || job.state === 'blocked';
}

/**
 * A kept plan: its figures, its changes page by page (filterable by status), and "Apply this plan" behind
 * a confirmation that names what it does. The apply starts a run, handed to `onApplied` to follow.
 */
export function PlanReview({
  credentials,
  job,
  onApplied,
  onClose,
}: {
  credentials: Credentials;
  job: PlannedJob;
  onApplied: (run: { _id: string }) => void;
  onClose: () => void;
}) {
  const [status, setStatus] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [page, setPage] = useState<{ changes: PlannedChange[]; nextCursor?: string } | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const cursor = cursors.at(-1);

  useEffect(() => {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status) query.set('status', status);
    if (cursor) query.set('cursor', cursor);
    call<{ changes: PlannedChange[]; nextCursor?: string }>(
      credentials,
      `/abac/users/sync/jobs/${job._id}/changes?${query.toString()}`,
    ).then(setPage, (failure: unknown) => setError(failure as ApiError));
  }, [job._id, status, cursor]);

  // What a reviewer must weigh: who loses values, and which room memberships end (the guard's figures).
  const question = job.guard
    ? `${job.guard.revokedUsers} users lose values (${job.guard.clearedUsers} cleared) and ${job.guard.evictions} room memberships end`
    : `${(job.summary.updated ?? 0) + (job.summary.cleared ?? 0)} users change and ${job.summary.roomsRevoked ?? 0} room memberships end`;
  const apply = async () => {
    setConfirming(false);
    try {
      const { job: run } = await call<{ job: { _id: string } }>(
        credentials,
        `/abac/users/sync/jobs/${job._id}/apply`,
        {
          method: 'POST',
          body: {},
        },
      );
      onApplied(run);
    } catch (failure) {
      setError(failure as ApiError);
    }
  };

  return html`<section class="card" aria-labelledby="plan-title">
    <h2 id="plan-title">
      Plan of run <code>${job._id}</code> (${job.state === 'blocked' ? 'blocked' : 'dry run'})
    </h2>
    ${job.guard ? html`<p class="guard">${guardText(job.guard)}</p>` : null}
    <div class="actions">
      <label for="plan-status" class="inline">Show</label>
      <select
        id="plan-status"
        value=${status}
        onChange=${(e: Event) => {
          setStatus((e.target as HTMLSelectElement).value);
          setCursors([]);
        }}
      >
        <option value="">every change</option>
        <option value="updated">updated</option>
        <option value="cleared">cleared</option>
        <option value="unchanged">rooms only</option>
      </select>
      ${
        job.appliedBy
          ? html`<span class="applied">${`Applied in run ${job.appliedBy}: nothing more to apply.`}</span>`
          : confirming
            ? html`<span class="confirm"
                >Apply this plan, made ${planAge(job.finishedAt, Date.now())} ago: ${question}?
                <button type="button" class="primary" onClick=${apply}>Yes, apply it</button>
                <button type="button" onClick=${() => setConfirming(false)}>No</button></span
              >`
            : html`<button type="button" class="primary" onClick=${() => setConfirming(true)}>
                Apply this plan
              </button>`
      }
      <button type="button" class="link" onClick=${onClose}>Close</button>
    </div>
    <${ErrorBox} error=${error} />
    <${UserChangesTable}
      tableClass="plan"
      caption=${`Planned changes${cursors.length > 0 ? ` (page ${cursors.length + 1})` : ''}`}
      roomsHeading="Rooms left"
      rows=${(page?.changes ?? []).map((change) => ({
        username: change.username,
        status: `${change.status}${change.stale ? ' (stale: left as it was)' : ''}`,
        added: change.added,
        removed: change.removed,
        rooms: change.roomsRevoked,
      }))}
    />
    <div class="actions">
      <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors([])}>
        First page
      </button>
      <button
        type="button"
        disabled=${!page?.nextCursor}
        onClick=${() => setCursors([...cursors, page!.nextCursor!])}
      >
        Next page
      </button>
    </div>
  </section>`;
}
