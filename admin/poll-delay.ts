// Pure: when the page reads again after a read. No DOM here.

/** The longest wait between two reads that failed, however many failed in a row. */
export const MAX_POLL_DELAY_MS = 60_000;

/**
 * The wait before the next read: `everyMs` after a success; after a 429, what the server's Retry-After asks
 * (never less than `everyMs`); after any other failure, doubling with each failure in a row up to a minute.
 * Undefined after a 401: the credentials were refused, and reading again would only count failed logins.
 */
export function nextPollDelay(
  everyMs: number,
  failure: { status: number; retryAfterSeconds?: number } | undefined,
  failuresInRow: number,
): number | undefined {
  if (!failure) return everyMs;
  if (failure.status === 401) return undefined;
  if (failure.status === 429 && failure.retryAfterSeconds !== undefined)
    return Math.min(Math.max(everyMs, failure.retryAfterSeconds * 1000), MAX_POLL_DELAY_MS);
  return Math.min(everyMs * 2 ** Math.max(failuresInRow, 1), MAX_POLL_DELAY_MS);
}
