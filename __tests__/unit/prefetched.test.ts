import { prefetched, readAhead } from '../../lib/jobs/prefetched';

async function* numbers(count: number, log: string[]) {
  try {
    for (let index = 0; index < count; index += 1) {
      log.push(`read ${index}`);
      yield index;
    }
  } finally {
    log.push('source closed');
  }
}

/** The one-ahead pipeline of a run's planning (pure: no servers). */
describe('prefetched', () => {
  it('keeps the order and maps the next item while the consumer works on the current one', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const value of prefetched(numbers(3, log), async (item) => {
      log.push(`map ${item}`);
      return item * 10;
    })) {
      log.push(`use ${value}`);
      seen.push(value);
    }
    expect(seen).toEqual([0, 10, 20]);
    expect(log.indexOf('map 1')).toBeLessThan(log.indexOf('use 0'));
    expect(log.filter((line) => line === 'source closed')).toHaveLength(1);
  });

  it('with its source read ahead, reads the next item while the current one is mapped', async () => {
    const order = async (source: (log: string[]) => AsyncIterable<number>) => {
      const log: string[] = [];
      const values: number[] = [];
      for await (const value of prefetched(source(log), async (item) => {
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`map ${item} ends`);
        return item;
      }))
        values.push(value);
      expect(values).toEqual([0, 1, 2]);
      expect(log.filter((line) => line === 'source closed')).toHaveLength(1);
      return log;
    };
    const ahead = await order((log) => readAhead(numbers(3, log)));
    expect(ahead.indexOf('read 1')).toBeLessThan(ahead.indexOf('map 0 ends'));
    expect(ahead.indexOf('read 2')).toBeLessThan(ahead.indexOf('map 1 ends'));
    // Without it, each read waits for the map before it.
    const plain = await order((log) => numbers(3, log));
    expect(plain.indexOf('read 1')).toBeGreaterThan(plain.indexOf('map 0 ends'));
  });

  it('surfaces a failure at the item that failed, after the items before it', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const value of prefetched(numbers(5, []), async (item) => {
        if (item === 2) throw new Error('directory down');
        return item;
      }))
        seen.push(value);
    };
    await expect(run()).rejects.toThrow('directory down');
    expect(seen).toEqual([0, 1]);
  });

  it('lets the item in flight finish, then closes the source, when the consumer stops early', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consume = (async () => {
      for await (const value of prefetched(numbers(5, log), async (item) => {
        if (item === 1) await gate;
        log.push(`mapped ${item}`);
        return item;
      })) {
        if (value === 0) break;
      }
    })();
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).not.toContain('source closed');
    release();
    await consume;
    expect(log.slice(-2)).toEqual(['mapped 1', 'source closed']);
  });
});
