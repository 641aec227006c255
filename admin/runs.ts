import { useEffect, useRef, useState } from 'preact/hooks';
import { call, FOLLOW_RUN, planUndo, type ApiError, type Credentials } from './api';
import { nextPollDelay } from './poll-delay';
import { progressView, type RunReading } from './run-progress';
import { ErrorBox, html } from './ui';
import { keepsPlan, PlanReview, type PlannedJob } from './plan';
import { guardText } from './guard-text';

interface Job extends PlannedJob {
  _id: string;
  trigger: string;
  actor: { type: string; username?: string };
  dryRun: boolean;
  state: string;
  phase?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress: { total?: number; processed: number };
  summary: Record<string, number>;
  error?: { code: string; message: string };
}

const BLOCKED_ADVICE =
  'Nothing of it was applied. Review its plan: apply it from the review if it is right, or leave it and it expires.';
/** Why the guard stopped a run: its figures, as the plan review states them. */
function blockedText(job: Pick<Job, 'guard'>): string {
  const prefix = 'Blocked by the mass-revocation guard';
  return job.guard ? `${prefix}: ${guardText(job.guard)}` : `${prefix}.`;
}

/** A followed run is read at most once a second, as the job route asks. */
const FOLLOW_EVERY_MS = 1000;

const seconds = (job: Job) =>
  job.startedAt && job.finishedAt
    ? `${((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000).toFixed(1)} s`
    : '';

function Progress({ job, previous }: { job: Job; previous: RunReading | undefined }) {
  const view = progressView(previous, { ...job, at: Date.now() });
  return html`<div class="progress">
    <label for="run-progress">${view.label}</label>
    <progress id="run-progress" max="100" value=${view.percent}>${view.percent}%</progress>
    <span class="percent">${view.percent}%</span>
    ${view.rate !== undefined ? html` <span>${view.rate.toLocaleString('en')}/s</span>` : null}
    ${view.etaSeconds !== undefined ? html` <span>about ${view.etaSeconds} s left</span>` : null}
  </div>`;
}

/** The list with the followed run's latest reading in its row, or first when the list does not hold it yet. */
function withFollowed(jobs: Job[], followed: Job | undefined): Job[] {
  if (!followed) return jobs;
  return jobs.some((job) => job._id === followed._id)
    ? jobs.map((job) => (job._id === followed._id ? followed : job))
    : [followed, ...jobs];
}

export function Runs({ credentials }: { credentials: Credentials }) {
  const [jobs, setJobs] = useState<Job[]>([]);
  const [followed, setFollowed] = useState<Job | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [reviewing, setReviewing] = useState<Job | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const previous = useRef<RunReading | undefined>(undefined);
  // A failed read (a 429 among them) is tried again after a wait, so following never freezes.
  const followFailures = useRef(0);
  const [followDelayMs, setFollowDelayMs] = useState<number | undefined>(FOLLOW_EVERY_MS);
  const [followTick, setFollowTick] = useState(0);

  const refresh = async () => {
    try {
      const listed = (await call<{ jobs: Job[] }>(credentials, '/abac/users/sync/jobs?count=10')).jobs;
      setJobs(listed);
      return listed;
    } catch (failure) {
      setError(failure as ApiError);
      return [];
    }
  };
  // A run already queued or running when the page opens (the schedule's, another admin's) is followed.
  useEffect(() => {
    void refresh().then((listed) => {
      const active = listed.find((job) => ['queued', 'running'].includes(job.state));
      if (active) setFollowed((current) => current ?? active);
    });
  }, []);
  // An undo planned from elsewhere on the page (a sync's result) is followed here like any run.
  useEffect(() => {
    const follow = (event: Event) => {
      previous.current = undefined;
      setFollowed((event as CustomEvent<Job>).detail);
      void refresh();
    };
    window.addEventListener(FOLLOW_RUN, follow);
    return () => window.removeEventListener(FOLLOW_RUN, follow);
  }, []);
  useEffect(() => {
    if (!followed || !['queued', 'running'].includes(followed.state) || followDelayMs === undefined) return;
    const timer = setTimeout(async () => {
      try {
        const { job } = await call<{ job: Job }>(credentials, `/abac/users/sync/jobs/${followed._id}`);
        previous.current = { ...followed, at: Date.now() - followDelayMs };
        followFailures.current = 0;
        setFollowDelayMs(FOLLOW_EVERY_MS);
        setError(undefined);
        setFollowed(job);
        if (!['queued', 'running'].includes(job.state)) void refresh();
        // An undo's plan is there to be reviewed: it opens once made.
        if (job.kind === 'undo' && keepsPlan(job)) setReviewing(job);
      } catch (failure) {
        followFailures.current += 1;
        setError(failure as ApiError);
        setFollowDelayMs(nextPollDelay(FOLLOW_EVERY_MS, failure as ApiError, followFailures.current));
        setFollowTick((tick) => tick + 1);
      }
    }, followDelayMs);
    return () => clearTimeout(timer);
  }, [followed, followTick]);

  const start = async (dryRun: boolean) => {
    setConfirming(false);
    setError(undefined);
    previous.current = undefined;
    try {
      setFollowed(
        (await call<{ job: Job }>(credentials, '/abac/users/sync/jobs', { method: 'POST', body: { dryRun } }))
          .job,
      );
      void refresh();
    } catch (failure) {
      const apiError = failure as ApiError & { job?: Job };
      setError(apiError);
    }
  };
  const cancel = async () => {
    if (!followed) return;
    try {
      setFollowed(
        (
          await call<{ job: Job }>(credentials, `/abac/users/sync/jobs/${followed._id}/cancel`, {
            method: 'POST',
            body: {},
          })
        ).job,
      );
    } catch (failure) {
      // It ended before the cancel reached it: show how it ended rather than an error.
      if ((failure as ApiError).code === 'error-sync-job-ended')
        setFollowed((await call<{ job: Job }>(credentials, `/abac/users/sync/jobs/${followed._id}`)).job);
      else setError(failure as ApiError);
    }
  };

  const undo = async (job: Job) => {
    setError(undefined);
    try {
      await planUndo(credentials, { jobId: job._id });
    } catch (failure) {
      setError(failure as ApiError);
    }
  };

  const active = followed && ['queued', 'running'].includes(followed.state);
  return html`<section class="card" aria-labelledby="runs-title">
    <h2 id="runs-title">Every LDAP user: directory-wide runs</h2>
    <div class="actions">
      <button type="button" disabled=${active} onClick=${() => start(true)}>Start a dry run</button>
      ${
        confirming
          ? html`<span class="confirm"
              >Sync every LDAP user now?
              <button type="button" class="primary" onClick=${() => start(false)}>Yes, start the run</button>
              <button type="button" onClick=${() => setConfirming(false)}>No</button></span
            >`
          : html`<button
              type="button"
              class="primary"
              disabled=${active}
              onClick=${() => setConfirming(true)}
            >
              Start a run
            </button>`
      }
      ${active ? html`<button type="button" onClick=${cancel}>Cancel the run</button>` : null}
    </div>
    ${
      followed
        ? html`<div class="followed" data-job=${followed._id} data-state=${followed.state}>
            <p>
              Run
              <code>${followed._id}</code
              >${followed.kind === 'undo' && followed.dryRun ? ' (undo plan)' : followed.dryRun ? ' (dry run)' : ''}:${' '}
              <strong class=${`state-${followed.state}`}>${followed.state}</strong>
              ${followed.error ? html` — ${followed.error.code}: ${followed.error.message}` : null}
            </p>
            ${
              followed.state === 'blocked'
                ? html`<div class="blocked-notice" role="status">
                    <p>${blockedText(followed)}</p>
                    <p>${BLOCKED_ADVICE}</p>
                    <button type="button" class="primary" onClick=${() => setReviewing(followed)}>
                      Review the blocked plan
                    </button>
                  </div>`
                : html`<${Progress} job=${followed} previous=${previous.current} />`
            }
          </div>`
        : null
    }
    <${ErrorBox} error=${error} />
    ${
      reviewing
        ? html`<${PlanReview}
            credentials=${credentials}
            job=${reviewing}
            onClose=${() => setReviewing(undefined)}
            onApplied=${(run: Job) => {
              setReviewing(undefined);
              previous.current = undefined;
              setFollowed(run);
              void refresh();
            }}
          />`
        : null
    }
    <div class="table-scroll" tabindex="0" role="region" aria-label="Recent runs">
      <table class="runs">
        <caption>
          Recent runs
        </caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Trigger</th>
            <th scope="col">By</th>
            <th scope="col">State</th>
            <th scope="col">Duration</th>
            <th scope="col">Users</th>
            <th scope="col">Values changed</th>
            <th scope="col">All values removed</th>
            <th scope="col">Room memberships ended</th>
            <th scope="col"><span class="visually-hidden">Plan</span></th>
          </tr>
        </thead>
        <tbody>
          ${withFollowed(jobs, followed).map(
            (job) =>
              html`<tr data-job=${job._id}>
                <td>${new Date(job.createdAt).toLocaleString()}</td>
                <td>
                  ${job.trigger}${job.kind === 'undo' ? ` (undo of ${job.undoes})` : ''}${job.dryRun ? ' (dry run)' : ''}
                </td>
                <td>${job.actor.username ?? 'system'}</td>
                <td
                  class=${job.appliedBy ? 'state-applied' : `state-${job.state}`}
                  title=${job.state === 'blocked' ? blockedText(job) : undefined}
                >
                  ${
                    job.appliedBy
                      ? `${job.state === 'blocked' ? 'blocked' : job.state}, applied in run ${job.appliedBy}`
                      : job.state === 'blocked'
                        ? 'blocked: nothing applied'
                        : job.state
                  }
                </td>
                <td>${seconds(job)}</td>
                <td>${job.summary.matched ?? 0}</td>
                <td>${job.summary.updated ?? 0}</td>
                <td>${job.summary.cleared ?? 0}</td>
                <td>${job.summary.roomsRevoked ?? 0}</td>
                <td>
                  ${
                    keepsPlan(job)
                      ? html`<button
                          type="button"
                          onClick=${() => setReviewing(job)}
                          aria-label=${`Review the plan of run ${job._id}`}
                        >
                          Review
                        </button>`
                      : job.state === 'completed' && !job.dryRun
                        ? html`<button
                            type="button"
                            disabled=${active}
                            onClick=${() => undo(job)}
                            aria-label=${`Undo run ${job._id}`}
                          >
                            Undo
                          </button>`
                        : null
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}
