import { createHash } from 'node:crypto';
import { SyncPlanOutdatedError } from '../errors';
import { numberSetting, type SettingsSnapshot } from '../settings';
import type { SyncConfiguration } from '../sync/sync-configuration';

/** A week: past that, a plan describes a directory nobody remembers. */
export const MAX_PLAN_AGE_CAP_MINUTES = 7 * 24 * 60;
export const DEFAULT_MAX_PLAN_AGE_MINUTES = 24 * 60;

/**
 * What a plan depends on, as one hash: the attribute map, where users are searched (base DN, scope,
 * filter) and how they are identified (search and unique-identifier fields). A plan made under other
 * settings would write the old settings' values.
 */
export function settingsFingerprint({ mapping, search }: SyncConfiguration): string {
  const depends = {
    map: mapping.rules.map(({ ldapAttribute, abacKey }) => [ldapAttribute, abacKey]),
    baseDN: search.baseDN,
    scope: search.scope,
    userFilter: search.userFilter,
    searchFields: search.searchFields,
    uniqueIdentifierFields: search.uniqueIdentifierFields,
  };
  return createHash('sha256').update(JSON.stringify(depends)).digest('hex');
}

/** ABAC_Sync_Plan_Max_Age_Minutes, within 1 and the cap; anything else reads as the default. */
export function maxPlanAgeMinutes(settings: Partial<SettingsSnapshot>): number {
  const minutes = numberSetting(settings.ABAC_Sync_Plan_Max_Age_Minutes);
  return minutes !== undefined && minutes >= 1 && minutes <= MAX_PLAN_AGE_CAP_MINUTES
    ? minutes
    : DEFAULT_MAX_PLAN_AGE_MINUTES;
}

/**
 * Why a kept plan may no longer be applied, or undefined when it may: made under other settings (or before
 * plans recorded theirs), or older than the maximum age.
 */
export function planOutdated(
  plan: { settingsFingerprint?: string; finishedAt?: Date },
  now: { fingerprint: string; at: number; maxAgeMinutes: number },
): string | undefined {
  if (plan.settingsFingerprint !== now.fingerprint)
    return 'the attribute map or the user search settings changed since the plan was made';
  const ageMs = now.at - (plan.finishedAt?.getTime() ?? 0);
  if (ageMs > now.maxAgeMinutes * 60_000)
    return `the plan is older than ABAC_Sync_Plan_Max_Age_Minutes (${now.maxAgeMinutes})`;
  return undefined;
}

/** Throws SyncPlanOutdatedError (409) when a kept plan may no longer be applied under these settings now. */
export function checkPlanFresh(
  plan: { settingsFingerprint?: string; finishedAt?: Date },
  configuration: SyncConfiguration,
  settings: Partial<SettingsSnapshot>,
  at: number,
): void {
  const reason = planOutdated(plan, {
    fingerprint: settingsFingerprint(configuration),
    at,
    maxAgeMinutes: maxPlanAgeMinutes(settings),
  });
  if (reason) throw new SyncPlanOutdatedError(reason);
}
