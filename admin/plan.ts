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
  kind?: string;
  /** An undo's plan: the change set it takes back. */
  undoes?: string;
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
  roomsRestored?: { _id: string; name: string }[];
  roomsNotRestored?: { _id: string; name: string; reason: string }[];
  stale?: true;
}

interface PlanSummary {
  users: number;
  stale: number;
  attributes: { key: string; value: string; gain: number; lose: number }[];
  rooms: { _id: string; name: string; leave: number; comeBack: number }[];
}

const PAGE_SIZE = 50;
/** How many users a confirmation names before it counts the rest. */
const NAMED_IN_CONFIRMATION = 5;

const verb = (count: number, one: string, many: string) => (count === 1 ? one : many);
const both = (first: string, second: string) => [first, second].filter(Boolean).join(', ');

/** What the plan does by attribute value and by room: a broken map reads as one value everyone loses. */
function PlanSummaryBox({ summary }: { summary: PlanSummary | undefined }) {
  if (!summary) return html`<p class="plan-summary">Reading the summary…</p>`;
  const values = summary.attributes.map(({ key, value, gain, lose }) => {
    const said = both(
      gain > 0 ? `${counted(gain, 'user')} ${verb(gain, 'gains', 'gain')} it` : '',
      lose > 0 ? `${counted(lose, 'user')} ${verb(lose, 'loses', 'lose')} it` : '',
    );
    return html`<li><code>${key}</code> = <code>${value}</code>${`: ${said}`}</li>`;
  });
  const rooms = summary.rooms.map(({ _id, name, leave, comeBack }) => {
    const said = both(
      leave > 0 ? `${counted(leave, 'membership')} ${verb(leave, 'ends', 'end')}` : '',
      comeBack > 0 ? `${counted(comeBack, 'membership')} ${verb(comeBack, 'comes', 'come')} back` : '',
    );
    return html`<li data-room=${_id}>${`${name}: ${said}`}</li>`;
  });
  return html`<div class="plan-summary" aria-label="The plan at a glance">
    <h3>At a glance</h3>
    ${
      values.length > 0
        ? html`<p>By value:</p>
            <ul class="by-value">
              ${values}
            </ul>`
        : html`<p>No value changes.</p>`
    }
    ${
      rooms.length > 0
        ? html`<p>By room:</p>
            <ul class="by-room">
              ${rooms}
            </ul>`
        : null
    }
    ${summary.stale > 0 ? html`<p>${counted(summary.stale, 'user')} left alone: changed since.</p>` : null}
  </div>`;
}

/** An undo's confirmation names who gets which rooms back (the first few on the page, then a count). */
function restoredText(changes: readonly PlannedChange[], summary: PlanSummary | undefined): string {
  const named = changes
    .filter((change) => change.roomsRestored?.length)
    .slice(0, NAMED_IN_CONFIRMATION)
    .map(
      (change) => `${change.username} gets ${change.roomsRestored!.map(({ name }) => name).join(', ')} back`,
    );
  const total = (summary?.rooms ?? []).reduce((sum, room) => sum + room.comeBack, 0);
  const shown = changes
    .filter((change) => change.roomsRestored?.length)
    .slice(0, NAMED_IN_CONFIRMATION)
    .reduce((sum, change) => sum + change.roomsRestored!.length, 0);
  if (named.length === 0) return 'no room membership comes back';
  return (
    named.join('; ') +
    (total > shown
      ? `; and ${counted(total - shown, 'more membership')} ${verb(total - shown, 'comes', 'come')} back`
      : '')
  );
}

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
  const [summary, setSummary] = useState<PlanSummary | undefined>();
  const cursor = cursors.at(-1);
  const isUndo = job.kind === 'undo';

  useEffect(() => {
    call<{ summary: PlanSummary }>(credentials, `/abac/users/sync/jobs/${job._id}/summary`).then(
      (answer) => setSummary(answer.summary),
      (failure: unknown) => setError(failure as ApiError),
    );
  }, [job._id]);

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
  const changing = (job.summary.updated ?? 0) + (job.summary.cleared ?? 0);
  const question = isUndo
    ? `${counted(changing, 'user')} ${verb(changing, 'goes', 'go')} back to their earlier values; ` +
      restoredText(page?.changes ?? [], summary)
    : job.guard
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
      ${
        isUndo
          ? html`Undo of <code>${job.undoes}</code> (plan of run <code>${job._id}</code>)`
          : html`Plan of run <code>${job._id}</code> (${job.state === 'blocked' ? 'blocked' : 'dry run'})`
      }
    </h2>
    <${PlanSummaryBox} summary=${summary} />
    ${job.guard ? html`<p class="guard">${guardText(job.guard)}</p>` : null}
    <div class="actions">
      ${
        job.appliedBy
          ? html`<span class="applied">${`Applied in run ${job.appliedBy}: nothing more to apply.`}</span>`
          : confirming
            ? html`<span class="confirm"
                >${`${isUndo ? 'Apply this undo' : 'Apply this plan'}, made ${planAge(job.finishedAt, Date.now())} ago: ${question}?`}
                <button type="button" class=${applyClass} onClick=${apply}>Yes, apply it</button>
                <button type="button" onClick=${() => setConfirming(false)}>No</button></span
              >`
            : html`<button type="button" class=${applyClass} onClick=${() => setConfirming(true)}>
                ${isUndo ? 'Apply this undo' : 'Apply this plan'}
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
      restoredHeading=${isUndo ? 'Rooms they get back' : undefined}
      rows=${(page?.changes ?? []).map((change) => ({
        username: change.username,
        status: `${statusLabel(change.status)}${change.stale ? ' (changed since the plan: left as it was)' : ''}`,
        statusClass: `status status-${change.status}`,
        added: change.added,
        removed: change.removed,
        rooms: change.roomsRevoked,
        restored: [
          ...(change.roomsRestored ?? []),
          ...(change.roomsNotRestored ?? []).map(({ name, reason }) => ({
            name: `not ${name} (${reason === 'room-gone' ? 'room deleted' : 'no longer admitted'})`,
          })),
        ],
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
