import { prefetched } from '../lib/jobs/prefetched';

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
