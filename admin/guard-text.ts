// Pure: the sentence the plan review shows for the guard's figures. No DOM here.
import { counted } from './words';

/** The guard's figures of a kept plan, as the job route reports them. */
export interface GuardFigures {
  revokedUsers: number;
  clearedUsers: number;
  evictions: number;
  usersInRun: number;
  thresholdPercent: number;
  thresholdUsers: number;
  recentRevokedUsers?: number;
  windowMinutes?: number;
}

/**
 * The guard's figures as one sentence each, built as whole strings: a template's own line breaks are not
 * spaces, so text spread over its lines runs together.
 */
export function guardText(guard: GuardFigures): string {
  const recent = guard.recentRevokedUsers
    ? ` Unattended syncs took values from ${counted(guard.recentRevokedUsers, 'user')} in the ` +
      `${counted(guard.windowMinutes ?? 0, 'minute')} before it, counted together with them.`
    : '';
  return (
    `${guard.revokedUsers.toLocaleString('en')} of ${counted(guard.usersInRun, 'user')} would lose values ` +
    `(${guard.clearedUsers.toLocaleString('en')} cleared), ` +
    `${counted(guard.evictions, 'room membership')} would end.${recent} ` +
    `The guard allows ${guard.thresholdPercent}% and ${counted(guard.thresholdUsers, 'user')}.`
  );
}
