import { useEffect, useState } from 'preact/hooks';
import { call, type ApiError, type Credentials } from './api';
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
  useEffect(() => {
    let stopped = false;
    const read = () =>
      call<{ feed: FeedStatus }>(credentials, '/abac/users/sync/feed').then(
        (answer) => {
          if (!stopped) setFeed(answer.feed);
        },
        (failure: unknown) => {
          if (!stopped) setError(failure as ApiError);
        },
      );
    void read();
    const timer = setInterval(() => void read(), READ_EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
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
                    <dd>the guard stopped changes: review run <code>${feed.blockedJobId}</code> below</dd>`
                : null
            }
          </dl>`
        : null
    }
  </section>`;
}
