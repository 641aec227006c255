/** A cursor's documents in arrays of `size` (the last may be shorter); the cursor is closed however it ends. */
export async function* inBatches<T, R>(
  cursor: AsyncIterable<T> & { close(): Promise<unknown> },
  size: number,
  map: (document: T) => R,
): AsyncGenerator<R[]> {
  let batch: R[] = [];
  try {
    for await (const document of cursor) {
      batch.push(map(document));
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    await cursor.close();
  }
}
