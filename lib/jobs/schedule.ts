import { CronExpressionParser } from 'cron-parser';
import { booleanSetting, type SettingsSnapshot } from '../settings';

/** The interval keys the chat server's setting offers, as cron expressions (host time zone). */
export const INTERVAL_KEYS: Readonly<Record<string, string>> = {
  every_1_hour: '0 * * * *',
  every_6_hours: '0 */6 * * *',
  every_12_hours: '0 */12 * * *',
  every_24_hours: '0 0 * * *',
  every_48_hours: '0 0 */2 * *',
};

export type Schedule =
  | { kind: 'off' }
  | { kind: 'cron'; cron: string }
  /** Switched on with an interval that is neither a key nor a cron expression: no run, a warning. */
  | { kind: 'invalid'; interval: string; reason: string };

/**
 * What LDAP_Background_Sync_ABAC_Attributes and its _Interval ask for. A cron expression has 5 fields
 * (minute to day of week) or 6 (seconds first); cron-parser alone would fill in missing fields.
 */
export function scheduleOf(
  settings: Pick<
    SettingsSnapshot,
    'LDAP_Background_Sync_ABAC_Attributes' | 'LDAP_Background_Sync_ABAC_Attributes_Interval'
  >,
): Schedule {
  if (booleanSetting(settings.LDAP_Background_Sync_ABAC_Attributes) !== true) return { kind: 'off' };
  const raw = settings.LDAP_Background_Sync_ABAC_Attributes_Interval;
  if (typeof raw !== 'string')
    return { kind: 'invalid', interval: String(raw), reason: 'it is not a string' };
  const interval = raw.trim();
  const cron = INTERVAL_KEYS[interval] ?? interval;
  const fields = cron.split(/\s+/).filter(Boolean).length;
  if (fields !== 5 && fields !== 6)
    return { kind: 'invalid', interval, reason: `a cron expression has 5 or 6 fields, not ${fields}` };
  try {
    CronExpressionParser.parse(cron);
  } catch (error) {
    return { kind: 'invalid', interval, reason: (error as Error).message };
  }
  return { kind: 'cron', cron };
}

export function sameSchedule(a: Schedule | undefined, b: Schedule): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
