import { useEffect, useState } from 'preact/hooks';
import { call, type ApiError, type Credentials } from './api';
import { nextPollDelay } from './poll-delay';
import { ErrorBox, html } from './ui';

interface FeedStatus {
  enabled: boolean;
  state: string;
  intervalSeconds: number;
  lagSeconds?: number;
  lastChangeAppliedAt?: string;
  changesApplied: number;
  blockedJobId?: string;
  error?: { code: string; message: string };
}

const READ_EVERY_MS = 5000;

// Whole strings, not text around template expressions: the template's own line breaks are not spaces.
const lagText = (feed: FeedStatus) =>
  `${feed.lagSeconds !== undefined ? `${feed.lagSeconds} s` : '—'} (polls every ${feed.intervalSeconds} s)`;
const lastChangeText = (feed: FeedStatus) =>
  `${feed.lastChangeAppliedAt ? new Date(feed.lastChangeAppliedAt).toLocaleString() : '—'} (${feed.changesApplied} in all)`;

/** The changed-entries feed at a glance: on or off, how far behind, the last change applied, and a block. */
export function FeedCard({ credentials }: { credentials: Credentials }) {
  const [feed, setFeed] = useState<FeedStatus | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    // Each read schedules the next: on schedule after a success, later after a failure (a 429's
    // Retry-After, or doubling), never again after a 401.
    const read = async () => {
      let failure: ApiError | undefined;
      try {
        const answer = await call<{ feed: FeedStatus }>(credentials, '/abac/users/sync/feed');
        failures = 0;
        if (!stopped) {
          setFeed(answer.feed);
          setError(undefined);
        }
      } catch (caught) {
        failure = caught as ApiError;
        failures += 1;
        if (!stopped) setError(failure);
      }
      const delay = nextPollDelay(READ_EVERY_MS, failure, failures);
      if (!stopped && delay !== undefined) timer = setTimeout(() => void read(), delay);
    };
    void read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  const discard = async () => {
    setConfirming(false);
    try {
      const answer = await call<{ feed: FeedStatus }>(credentials, '/abac/users/sync/feed/discard', {
        method: 'POST',
        body: {},
      });
      setFeed(answer.feed);
      setError(undefined);
    } catch (failure) {
      setError(failure as ApiError);
    }
  };
  return html`<section class="card" aria-labelledby="feed-title">
    <h2 id="feed-title">Changed-entries feed</h2>
    <${ErrorBox} error=${error} />
    ${
      feed
        ? html`<dl class="feed" data-state=${feed.state}>
            <dt>State</dt>
            <dd>${feed.enabled ? feed.state : 'off (ABAC_Sync_Change_Feed_Enabled)'}</dd>
            <dt>Lag</dt>
            <dd>${lagText(feed)}</dd>
            <dt>Last change applied</dt>
            <dd>${lastChangeText(feed)}</dd>
            ${
              feed.error
                ? html`<dt>Last poll</dt>
                    <dd>${feed.error.code}: ${feed.error.message}</dd>`
                : null
            }
            ${
              feed.blockedJobId
                ? html`<dt>Blocked</dt>
                    <dd>
                      the guard stopped changes: review run <code>${feed.blockedJobId}</code> below, or
                      ${
                        confirming
                          ? html`<span class="confirm"
                              >Discard them? The feed moves past them, applying nothing; the next
                              directory-wide run applies what the directory then says.
                              <button type="button" class="danger" onClick=${discard}>
                                Yes, discard them
                              </button>
                              <button type="button" onClick=${() => setConfirming(false)}>No</button></span
                            >`
                          : html`<button type="button" onClick=${() => setConfirming(true)}>
                              Discard the blocked changes
                            </button>`
                      }
                    </dd>`
                : null
            }
          </dl>`
        : null
    }
  </section>`;
}
