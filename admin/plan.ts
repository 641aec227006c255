import { useEffect, useState } from 'preact/hooks';
import { call, type ApiError, type Credentials } from './api';
import { ErrorBox, html, UserChangesTable, type Attribute } from './ui';
import { planAge } from './plan-age';
import { guardText } from './guard-text';
import { counted, pageText, PLAN_FILTERS, planFilterQuery, statusLabel } from './words';

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
 * A kept plan: its figures, its changes page by page (filtered, searched by username, with where the page
 * sits), and "Apply this plan" behind a confirmation that names what it does. The apply starts a run,
 * handed to `onApplied` to follow.
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
  const [filter, setFilter] = useState('');
  const [search, setSearch] = useState('');
  const [searched, setSearched] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  // A page keeps where it starts, so its rows and its position change together when the next one arrives.
  const [page, setPage] = useState<
    { changes: PlannedChange[]; nextCursor?: string; total: number; first: number } | undefined
  >();
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const cursor = cursors.at(-1);

  useEffect(() => {
    const query = new URLSearchParams({ count: String(PAGE_SIZE), ...planFilterQuery(filter) });
    if (searched) query.set('username', searched);
    if (cursor) query.set('cursor', cursor);
    let superseded = false;
    call<{ changes: PlannedChange[]; nextCursor?: string; total: number }>(
      credentials,
      `/abac/users/sync/jobs/${job._id}/changes?${query.toString()}`,
    ).then(
      (answer) => {
        if (!superseded) setPage({ ...answer, first: cursors.length * PAGE_SIZE });
      },
      (failure: unknown) => setError(failure as ApiError),
    );
    return () => {
      superseded = true;
    };
  }, [job._id, filter, searched, cursor]);

  // What a reviewer must weigh: who loses values, and which room memberships end (the guard's figures).
  const question = job.guard
    ? `${counted(job.guard.revokedUsers, 'user')} lose${job.guard.revokedUsers === 1 ? 's' : ''} values ` +
      `(${job.guard.clearedUsers.toLocaleString('en')} cleared) and ` +
      `${counted(job.guard.evictions, 'room membership')} end${job.guard.evictions === 1 ? 's' : ''}`
    : `${counted((job.summary.updated ?? 0) + (job.summary.cleared ?? 0), 'user')} change and ` +
      `${counted(job.summary.roomsRevoked ?? 0, 'room membership')} end`;
  const startOver = () => setCursors([]);
  // Taking values or room memberships away is what the guard exists for: its button says so in colour.
  const revokes = job.guard
    ? job.guard.revokedUsers > 0 || job.guard.evictions > 0
    : (job.summary.cleared ?? 0) > 0 || (job.summary.roomsRevoked ?? 0) > 0 || (job.summary.updated ?? 0) > 0;
  const applyClass = revokes ? 'danger' : 'primary';
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
      ${
        job.appliedBy
          ? html`<span class="applied">${`Applied in run ${job.appliedBy}: nothing more to apply.`}</span>`
          : confirming
            ? html`<span class="confirm"
                >Apply this plan, made ${planAge(job.finishedAt, Date.now())} ago: ${question}?
                <button type="button" class=${applyClass} onClick=${apply}>Yes, apply it</button>
                <button type="button" onClick=${() => setConfirming(false)}>No</button></span
              >`
            : html`<button type="button" class=${applyClass} onClick=${() => setConfirming(true)}>
                Apply this plan
              </button>`
      }
      <button type="button" class="link" onClick=${onClose}>Close</button>
    </div>
    <${ErrorBox} error=${error} />
    <form
      class="actions plan-filters"
      role="search"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        setSearched(search.trim());
        startOver();
      }}
    >
      <label for="plan-filter" class="inline">Show</label>
      <select
        id="plan-filter"
        value=${filter}
        onChange=${(e: Event) => {
          setFilter((e.target as HTMLSelectElement).value);
          startOver();
        }}
      >
        ${PLAN_FILTERS.map((option) => html`<option value=${option.value}>${option.label}</option>`)}
      </select>
      <label for="plan-search" class="inline">Username starts with</label>
      <input
        id="plan-search"
        type="search"
        class="inline"
        maxlength="100"
        value=${search}
        onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Search</button>
    </form>
    <p class="page-position" aria-live="polite">
      ${page ? pageText(page.first, page.changes.length, page.total, PAGE_SIZE) : 'Reading…'}
    </p>
    <${UserChangesTable}
      tableClass="plan"
      caption="Planned changes, by username"
      captionClass="visually-hidden"
      roomsHeading="Rooms they would leave"
      rows=${(page?.changes ?? []).map((change) => ({
        username: change.username,
        status: `${statusLabel(change.status)}${change.stale ? ' (changed since the plan: left as it was)' : ''}`,
        statusClass: `status status-${change.status}`,
        added: change.added,
        removed: change.removed,
        rooms: change.roomsRevoked,
      }))}
    />
    <div class="actions">
      <button type="button" disabled=${cursors.length === 0} onClick=${startOver}>First page</button>
      <button
        type="button"
        disabled=${cursors.length === 0}
        onClick=${() => setCursors(cursors.slice(0, -1))}
      >
        Previous page
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
