import { HealthCheck, HEALTH_CACHE_MS, type HealthPorts } from '../../lib/health';
import type { FeedStatus } from '../../lib/feed/feed-status';
import { SETTING_DEFAULTS } from '../../lib/settings';
import { ManualClock } from '../helpers/host';

// What the health route says for each state of the parts it checks, and how often it checks.

function ports(overrides: Partial<HealthPorts> = {}): HealthPorts & { pings: number } {
  const state = { pings: 0 };
  return Object.assign(state, {
    pingDatabase: async () => {
      state.pings += 1;
    },
    settings: { current: async () => ({ ...SETTING_DEFAULTS, LDAP_Enable: false }) },
    directory: { open: async () => Promise.reject(new Error('no directory here')) },
    runnerActive: true,
    feedStatus: async () => ({ state: 'following' }) as FeedStatus,
    clock: new ManualClock(),
    ...overrides,
  });
}

describe('the health check', () => {
  it('is down when MongoDB does not answer, whatever else is up', async () => {
    const check = new HealthCheck(ports({ pingDatabase: () => Promise.reject(new Error('gone')) }));
    expect(await check.report()).toEqual({
      status: 'down',
      mongo: 'down',
      ldap: 'off',
      runner: 'up',
      feed: 'up',
    });
  });

  it.each([
    ['off', 'off'],
    ['starting', 'up'],
    ['following', 'up'],
    ['failing', 'down'],
    ['blocked', 'down'],
  ] as const)('shows a feed %s as %s', async (state, shown) => {
    const check = new HealthCheck(ports({ feedStatus: async () => ({ state }) as FeedStatus }));
    expect((await check.report()).feed).toBe(shown);
  });

  it('checks at most once per HEALTH_CACHE_MS however often it is asked', async () => {
    const clock = new ManualClock();
    const counted = ports({ clock });
    const check = new HealthCheck(counted);
    await Promise.all([check.report(), check.report(), check.report()]);
    clock.advance(HEALTH_CACHE_MS - 1);
    await check.report();
    expect(counted.pings).toBe(1);
    clock.advance(1);
    await check.report();
    expect(counted.pings).toBe(2);
  });
});
