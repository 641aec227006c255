import { scheduleOf } from '../../lib/jobs/schedule';

const settings = (enabled: unknown, interval: unknown) => ({
  LDAP_Background_Sync_ABAC_Attributes: enabled,
  LDAP_Background_Sync_ABAC_Attributes_Interval: interval,
});

/** How the schedule settings are read (pure: no servers). */
describe('schedule settings', () => {
  it('is off unless switched on, whatever the interval', () => {
    expect(scheduleOf(settings(false, '0 0 * * *'))).toEqual({ kind: 'off' });
    expect(scheduleOf(settings('false', 'nonsense'))).toEqual({ kind: 'off' });
    expect(scheduleOf(settings(undefined, '0 0 * * *'))).toEqual({ kind: 'off' });
  });

  it('takes a cron expression of 5 or 6 fields', () => {
    expect(scheduleOf(settings(true, '0 0 * * *'))).toEqual({ kind: 'cron', cron: '0 0 * * *' });
    expect(scheduleOf(settings('true', ' */2 * * * * * '))).toEqual({ kind: 'cron', cron: '*/2 * * * * *' });
  });

  it.each([
    ['every_1_hour', '0 * * * *'],
    ['every_6_hours', '0 */6 * * *'],
    ['every_12_hours', '0 */12 * * *'],
    ['every_24_hours', '0 0 * * *'],
    ['every_48_hours', '0 0 */2 * *'],
  ])('maps the key %s to %s', (key, cron) => {
    expect(scheduleOf(settings(true, key))).toEqual({ kind: 'cron', cron });
  });

  it.each([
    ['61 * * * *', /61/],
    ['* * *', /5 or 6 fields, not 3/],
    ['', /5 or 6 fields, not 0/],
    ['every_2_hours', /5 or 6 fields, not 1/],
    ['0 0 * * * * *', /not 7/],
  ])('refuses %j with a reason', (interval, reason) => {
    const schedule = scheduleOf(settings(true, interval));
    expect(schedule).toMatchObject({ kind: 'invalid', interval: interval.trim() });
    expect(schedule.kind === 'invalid' && schedule.reason).toMatch(reason);
  });

  it('refuses an interval that is not text', () => {
    expect(scheduleOf(settings(true, 24))).toMatchObject({ kind: 'invalid', interval: '24' });
  });
});
