import { scaleSizes } from '../../bench/scale';

describe('the benchmark’s BENCH_SCALE', () => {
  it('reads a list of user counts, and none when unset', () => {
    expect(scaleSizes('10000, 100000,1000000')).toEqual([10_000, 100_000, 1_000_000]);
    expect(scaleSizes('')).toEqual([]);
    expect(scaleSizes(undefined)).toEqual([]);
  });

  it('refuses what is not a count of 3,000 users or more, before seeding anything', () => {
    for (const value of ['10k', '1000', '10000,abc', '3000.5'])
      expect(() => scaleSizes(value)).toThrow(/BENCH_SCALE/);
  });
});
