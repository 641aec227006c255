// Pure: the sentence the plan review shows for the guard's figures. No DOM here.

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
    ? ` Unattended syncs took values from ${guard.recentRevokedUsers} users in the ${guard.windowMinutes} ` +
      'minutes before it, counted together with them.'
    : '';
  return (
    `${guard.revokedUsers} of ${guard.usersInRun} users would lose values (${guard.clearedUsers} cleared), ` +
    `${guard.evictions} room memberships would end.${recent} The guard allows ${guard.thresholdPercent}% ` +
    `and ${guard.thresholdUsers} users.`
  );
}
