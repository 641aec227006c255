/**
 * Resolves after `ms`, or at once when `signal` aborts; the timer does not keep the process alive. The
 * abort listener goes with the wait, so a loop that waits on one long-lived signal does not pile them up.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}
