import { numberSetting, type SettingsSnapshot } from '../settings';

/** What a run's plan takes away, counted while planning. */
export interface PlannedRevocations {
  /** Users who would lose at least one value (cleared users included). */
  revokedUsers: number;
  clearedUsers: number;
  /** Room memberships the plan ends. */
  evictions: number;
}

/** The guard's figures, as a blocked (or dry) run shows them. */
export interface GuardFigures extends PlannedRevocations {
  usersInRun: number;
  thresholdPercent: number;
  thresholdUsers: number;
}

export const DEFAULT_GUARD = { maxRevokedPercent: 10, minUsers: 20 } as const;

/**
 * The thresholds from ABAC_Sync_Guard_Max_Revoked_Percent and ABAC_Sync_Guard_Min_Users. A value that is not
 * a number in range falls back to the default: a typo must never switch the guard off.
 */
export function guardThresholds(settings: Partial<SettingsSnapshot>): { percent: number; users: number } {
  const percent = numberSetting(settings.ABAC_Sync_Guard_Max_Revoked_Percent);
  const users = numberSetting(settings.ABAC_Sync_Guard_Min_Users);
  return {
    percent:
      percent !== undefined && percent >= 0 && percent <= 100 ? percent : DEFAULT_GUARD.maxRevokedPercent,
    users: users !== undefined && users >= 0 && Number.isInteger(users) ? users : DEFAULT_GUARD.minUsers,
  };
}

export function guardFigures(
  planned: Partial<PlannedRevocations> | undefined,
  usersInRun: number,
  thresholds: { percent: number; users: number },
): GuardFigures {
  return {
    revokedUsers: planned?.revokedUsers ?? 0,
    clearedUsers: planned?.clearedUsers ?? 0,
    evictions: planned?.evictions ?? 0,
    usersInRun,
    thresholdPercent: thresholds.percent,
    thresholdUsers: thresholds.users,
  };
}

/** Too much: the users losing a value exceed both the percentage of the run's users and the user count. */
export function revokesTooMuch(figures: GuardFigures): boolean {
  return (
    figures.revokedUsers * 100 > figures.thresholdPercent * figures.usersInRun &&
    figures.revokedUsers > figures.thresholdUsers
  );
}
