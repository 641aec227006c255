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
  /**
   * Users who lost values through unattended syncs (feed batches, runs) in the window before this plan:
   * the guard judges them and this plan's together, so a trickle of small changes is stopped too.
   */
  recentRevokedUsers?: number;
  windowMinutes?: number;
}

export interface GuardThresholds {
  percent: number;
  users: number;
  /** How far back unattended revocations count against the guard. */
  windowMinutes: number;
}

export const DEFAULT_GUARD = { maxRevokedPercent: 10, minUsers: 20, windowMinutes: 60 } as const;
/** A week: a longer window would only keep old entries alive. */
export const MAX_GUARD_WINDOW_MINUTES = 7 * 24 * 60;

/**
 * The thresholds from ABAC_Sync_Guard_Max_Revoked_Percent, ABAC_Sync_Guard_Min_Users and
 * ABAC_Sync_Guard_Window_Minutes. A value that is not a number in range falls back to the default: a typo
 * must never switch the guard off.
 */
export function guardThresholds(settings: Partial<SettingsSnapshot>): GuardThresholds {
  const percent = numberSetting(settings.ABAC_Sync_Guard_Max_Revoked_Percent);
  const users = numberSetting(settings.ABAC_Sync_Guard_Min_Users);
  const window = numberSetting(settings.ABAC_Sync_Guard_Window_Minutes);
  return {
    percent:
      percent !== undefined && percent >= 0 && percent <= 100 ? percent : DEFAULT_GUARD.maxRevokedPercent,
    users: users !== undefined && users >= 0 && Number.isInteger(users) ? users : DEFAULT_GUARD.minUsers,
    windowMinutes:
      window !== undefined && window >= 1 && window <= MAX_GUARD_WINDOW_MINUTES
        ? window
        : DEFAULT_GUARD.windowMinutes,
  };
}

export function guardFigures(
  planned: Partial<PlannedRevocations> | undefined,
  usersInRun: number,
  thresholds: Omit<GuardThresholds, 'windowMinutes'> & Partial<Pick<GuardThresholds, 'windowMinutes'>>,
  recentRevokedUsers?: number,
): GuardFigures {
  return {
    revokedUsers: planned?.revokedUsers ?? 0,
    clearedUsers: planned?.clearedUsers ?? 0,
    evictions: planned?.evictions ?? 0,
    usersInRun,
    thresholdPercent: thresholds.percent,
    thresholdUsers: thresholds.users,
    ...(recentRevokedUsers !== undefined
      ? { recentRevokedUsers, windowMinutes: thresholds.windowMinutes ?? DEFAULT_GUARD.windowMinutes }
      : {}),
  };
}

/**
 * Too much: the users losing a value, this plan's and the window's before it, exceed both the percentage of
 * the run's users and the user count.
 */
export function revokesTooMuch(figures: GuardFigures): boolean {
  const reached = figures.revokedUsers + (figures.recentRevokedUsers ?? 0);
  return reached * 100 > figures.thresholdPercent * figures.usersInRun && reached > figures.thresholdUsers;
}
