import { formatDuration, RateMeter } from '../../app/cli/rate-meter';

/** The CLI's users/s and ETA (pure: readings with given times). */
describe('rate meter', () => {
  it('knows no rate from one reading, then measures items per second', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    expect(meter.perSecond()).toBeUndefined();
    meter.add(2000, 10_000);
    expect(meter.perSecond()).toBe(5000);
    expect(meter.secondsLeft(100_000)).toBe(18);
  });

  it('follows the recent rate over its window, not the average since the start', () => {
    const meter = new RateMeter(10_000);
    meter.add(0, 0);
    meter.add(10_000, 100_000);
    meter.add(20_000, 110_000);
    meter.add(30_000, 120_000);
    expect(meter.perSecond()).toBe(1000);
  });

  it('starts over when a new phase counts from zero', () => {
    const meter = new RateMeter();
    meter.add(0, 0);
    meter.add(1000, 5000);
    meter.add(2000, 100);
    expect(meter.perSecond()).toBeUndefined();
    meter.add(3000, 600);
    expect(meter.perSecond()).toBe(500);
  });

  it('has no ETA while nothing moves', () => {
    const meter = new RateMeter();
    meter.add(0, 10);
    meter.add(5000, 10);
    expect(meter.secondsLeft(100)).toBeUndefined();
  });

  it('formats durations for people', () => {
    expect(formatDuration(undefined)).toBe('?');
    expect(formatDuration(Infinity)).toBe('?');
    expect(formatDuration(4.4)).toBe('4s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3h05m');
  });
});
