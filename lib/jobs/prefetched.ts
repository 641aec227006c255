/**
 * `source` mapped by `map`, one item ahead: the next item is read and mapped while the consumer works on
 * the current one. Order is kept; an error surfaces when the consumer reaches the item that failed. When
 * the consumer stops early, the item in flight is let finish before the source is closed.
 */
export async function* prefetched<T, R>(
  source: AsyncIterable<T>,
  map: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const start = async (): Promise<{ value: R } | undefined> => {
    const next = await iterator.next();
    return next.done ? undefined : { value: await map(next.value) };
  };
  const quiet = <V>(promise: Promise<V>) => {
    // Awaited later; until then its failure must not count as unhandled.
    promise.catch(() => undefined);
    return promise;
  };
  let pending = quiet(start());
  try {
    for (;;) {
      const current = await pending;
      if (!current) return;
      pending = quiet(start());
      yield current.value;
    }
  } finally {
    await pending.catch(() => undefined);
    await iterator.return?.();
  }
}

/** `source` read one item ahead: the next item is read while the consumer works on the current one. */
export function readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  return prefetched(source, async (item) => item);
}
