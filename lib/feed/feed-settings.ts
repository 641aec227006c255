// The feed's settings, read from a snapshot: whether it runs, how often, how far it reads again behind its
// watermark, how often it reconciles held group DNs, and where it looks.

import { booleanSetting, numberSetting, SETTING_DEFAULTS, type SettingsSnapshot } from '../settings';
import type { SyncConfiguration } from '../sync/sync-configuration';
import type { FeedSearch } from './change-feed';
import type { Overlap } from './feed-position';

/**
 * Applied changes remembered behind the watermark at most: past them the overlap shrinks (a bulk change),
 * keeping the feed's state document small.
 */
export const MAX_KEYS_BEHIND = 10_000;

/**
 * Whether the feed is switched on, how often it polls, how far behind its watermark it reads again, and
 * how often it reconciles the group DNs users hold (0: never).
 */
export function feedSettings(snapshot: SettingsSnapshot): {
  enabled: boolean;
  intervalMs: number;
  overlap: Overlap;
  reconcileMs: number;
} {
  const seconds = numberSetting(snapshot.ABAC_Sync_Change_Feed_Interval_Seconds);
  const overlap = numberSetting(snapshot.ABAC_Sync_Change_Feed_Overlap_Seconds);
  const reconcile = numberSetting(snapshot.ABAC_Sync_Change_Feed_Reconcile_Minutes);
  return {
    enabled: booleanSetting(snapshot.ABAC_Sync_Change_Feed_Enabled) === true,
    intervalMs:
      (seconds !== undefined && seconds >= 1 && seconds <= 3600
        ? seconds
        : SETTING_DEFAULTS.ABAC_Sync_Change_Feed_Interval_Seconds) * 1000,
    overlap: {
      seconds:
        overlap !== undefined && overlap >= 0 && overlap <= 86_400
          ? Math.floor(overlap)
          : SETTING_DEFAULTS.ABAC_Sync_Change_Feed_Overlap_Seconds,
      maxKeys: MAX_KEYS_BEHIND,
    },
    reconcileMs:
      (reconcile !== undefined && reconcile >= 0 && reconcile <= 10_080
        ? reconcile
        : SETTING_DEFAULTS.ABAC_Sync_Change_Feed_Reconcile_Minutes) * 60_000,
  };
}

/** Where the feed looks, from the sync's configuration and the feed's settings. */
export function feedSearchOf(configuration: SyncConfiguration, snapshot: SettingsSnapshot): FeedSearch {
  const { search, mapping } = configuration;
  const groupBase = String(snapshot.ABAC_Sync_Change_Feed_Group_Base_DN ?? '').trim() || search.baseDN;
  const groupFilter =
    String(snapshot.ABAC_Sync_Change_Feed_Group_Filter ?? '').trim() ||
    SETTING_DEFAULTS.ABAC_Sync_Change_Feed_Group_Filter;
  return {
    users: {
      baseDN: search.baseDN,
      scope: search.scope,
      userFilter: search.userFilter,
      identifierAttributes: [...new Set([...search.searchFields, ...search.uniqueIdentifierFields])],
    },
    // Groups matter only when memberOf feeds a mapped value.
    ...(mapping.ldapAttributes.includes('memberof')
      ? { groups: { baseDN: groupBase, filter: groupFilter } }
      : {}),
    pageSize: search.pageSize,
  };
}
