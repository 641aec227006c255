import { getEventListeners } from 'node:events';
import { delay } from '../../lib/jobs/abortable-delay';

describe('the runner loops’ delay', () => {
  it('leaves no listener on the signal once each wait is over (the feed loop waits once per poll)', async () => {
    const stopping = new AbortController();
    for (let poll = 0; poll < 20; poll += 1) await delay(1, stopping.signal);
    expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
  });

  it('ends a wait at once when the signal aborts', async () => {
    const stopping = new AbortController();
    const waiting = delay(60_000, stopping.signal);
    stopping.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(getEventListeners(stopping.signal, 'abort')).toHaveLength(0);
  });
});
