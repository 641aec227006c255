import { feedStatus } from '../../lib/feed/feed-status';
import { SETTING_DEFAULTS } from '../../lib/settings';

// What GET /feed shows of the feed's state (pure).

const on = { ...SETTING_DEFAULTS, ABAC_Sync_Change_Feed_Enabled: true };
const position = { watermark: '20261202193012Z', appliedAtWatermark: ['a@1'] };
const at = (seconds: number) => new Date(Date.UTC(2026, 11, 2, 12, 0, seconds));

describe('feedStatus', () => {
  it('says off, starting, following, failing and blocked', () => {
    expect(feedStatus({ changesApplied: 0, position }, SETTING_DEFAULTS, 0).state).toBe('off');
    expect(feedStatus({ changesApplied: 0 }, on, 0).state).toBe('starting');
    // Not started because a poll failed (the directory shows no change time): failing, with why.
    const unstarted = { code: 'error-feed-no-change-times', message: 'nowhere to start' };
    expect(feedStatus({ changesApplied: 0, error: unstarted }, on, 0)).toMatchObject({
      state: 'failing',
      error: unstarted,
    });
    expect(feedStatus({ changesApplied: 0, position }, on, 0).state).toBe('following');
    const error = { code: 'error-ldap-unavailable', message: 'down' };
    expect(feedStatus({ changesApplied: 0, position, error }, on, 0)).toMatchObject({
      state: 'failing',
      error,
    });
    const blocked = { jobId: 'j1', position };
    expect(feedStatus({ changesApplied: 0, position, blocked }, on, 0)).toMatchObject({
      state: 'blocked',
      blockedJobId: 'j1',
    });
    // Discarded: no longer blocked, though the feed has not moved past it yet.
    expect(
      feedStatus({ changesApplied: 0, position, blocked: { ...blocked, discarded: true } }, on, 0).state,
    ).toBe('following');
  });

  it('reports the lag from the last successful poll, the interval and the counts', () => {
    const status = feedStatus(
      { changesApplied: 7, position, lastSuccessAt: at(10), lastPollAt: at(12), consumer: 'chat-1:42' },
      { ...on, ABAC_Sync_Change_Feed_Interval_Seconds: 5 },
      at(13).getTime(),
    );
    expect(status).toEqual({
      enabled: true,
      state: 'following',
      intervalSeconds: 5,
      watermark: position.watermark,
      lastPollAt: at(12).toISOString(),
      lagSeconds: 3,
      changesApplied: 7,
      consumer: 'chat-1:42',
    });
  });

  it('falls back to the default interval for a value out of range', () => {
    expect(
      feedStatus({ changesApplied: 0 }, { ...on, ABAC_Sync_Change_Feed_Interval_Seconds: 0 }, 0)
        .intervalSeconds,
    ).toBe(2);
  });
});
