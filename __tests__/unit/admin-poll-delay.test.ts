import { nextPollDelay } from '../../admin/poll-delay';

// When the admin page reads a followed run or the feed again (pure).

const failure = (status: number, retryAfterSeconds?: number) => ({
  status,
  code: 'x',
  message: 'x',
  ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
});

describe('nextPollDelay', () => {
  it('reads on schedule after a success, and waits as long as a 429’s Retry-After asks', () => {
    expect(nextPollDelay(1000, undefined, 0)).toBe(1000);
    expect(nextPollDelay(1000, failure(429, 45), 1)).toBe(45_000);
    expect(nextPollDelay(5000, failure(429, 1), 1)).toBe(5000);
  });

  it('backs off by doubling on other failures, up to a minute, and stops on a 401', () => {
    expect([1, 2, 3, 10].map((row) => nextPollDelay(1000, failure(503), row))).toEqual([
      2000, 4000, 8000, 60_000,
    ]);
    expect(nextPollDelay(1000, failure(401), 1)).toBeUndefined();
  });
});
