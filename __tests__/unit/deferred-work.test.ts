import { DeferredWork } from '../../lib/deferred-work';
import { recordingLogger } from '../helpers/recording-logger';

/** A piece of work the test finishes by hand. */
function heldWork() {
  let finish = (): void => undefined;
  let fail = (_error: Error): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { run: () => done, finish, fail };
}

describe('work deferred past an answer', () => {
  it('is tracked until it settles, and settled() waits for all of it', async () => {
    const deferred = new DeferredWork(recordingLogger().logger);
    const first = heldWork();
    const second = heldWork();
    await deferred.defer('first', {}, first.run);
    await deferred.defer('second', {}, second.run);
    expect(deferred.size).toBe(2);
    let settled = false;
    const waiting = deferred.settled().then(() => (settled = true));
    first.finish();
    await Promise.resolve();
    expect(settled).toBe(false);
    second.finish();
    await waiting;
    expect(settled).toBe(true);
    expect(deferred.size).toBe(0);
  });

  it('logs a failure with what failed and its fields, and throws it nowhere', async () => {
    const { logger, lines } = recordingLogger();
    const deferred = new DeferredWork(logger);
    const work = heldWork();
    await deferred.defer('clearing audit outboxes', { requestId: 'req-1' }, work.run);
    work.fail(new Error('connection closed'));
    await deferred.settled();
    expect(lines).toEqual([
      {
        level: 'warn',
        fields: { requestId: 'req-1', err: 'connection closed' },
        message: 'clearing audit outboxes failed; a later sync completes it',
      },
    ]);
  });

  it('makes the caller wait for a slot once its limit of pieces is running', async () => {
    const deferred = new DeferredWork(recordingLogger().logger, 2);
    const pieces = [heldWork(), heldWork(), heldWork()];
    await deferred.defer('a', {}, pieces[0]!.run);
    await deferred.defer('b', {}, pieces[1]!.run);
    let third = false;
    const deferringThird = deferred.defer('c', {}, pieces[2]!.run).then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    pieces[0]!.finish();
    await deferringThird;
    expect(deferred.size).toBe(2);
    pieces[1]!.finish();
    pieces[2]!.finish();
    await deferred.settled();
  });
});
