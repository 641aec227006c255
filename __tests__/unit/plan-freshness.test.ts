import { maxPlanAgeMinutes, planOutdated, settingsFingerprint } from '../../lib/jobs/plan-freshness';
import { syncConfiguration } from '../../lib/sync/sync-configuration';
import { SETTING_DEFAULTS, type SettingsSnapshot } from '../../lib/settings';

// Whether a kept plan may still be applied (pure: no servers).

const configured = (changes: Partial<Record<keyof SettingsSnapshot, unknown>> = {}) =>
  syncConfiguration({
    ...SETTING_DEFAULTS,
    ABAC_Enabled: true,
    LDAP_Enable: true,
    LDAP_Host: 'ldap.example.org',
    LDAP_BaseDN: 'dc=example,dc=org',
    LDAP_ABAC_AttributeMap: '{"departmentNumber":"department"}',
    ...changes,
  } as SettingsSnapshot);

const HOUR = 3_600_000;

describe('a kept plan’s freshness', () => {
  it('changes the fingerprint with the map, the base DN, the filter, the scope and the identifying fields only', () => {
    const base = settingsFingerprint(configured());
    expect(settingsFingerprint(configured())).toBe(base);
    expect(settingsFingerprint(configured({ LDAP_Timeout: 5000, LDAP_Port: 636 }))).toBe(base);
    for (const changed of [
      { LDAP_ABAC_AttributeMap: '{"departmentNumber":"dept"}' },
      { LDAP_BaseDN: 'ou=people,dc=example,dc=org' },
      { LDAP_User_Search_Filter: '(objectClass=person)' },
      { LDAP_User_Search_Scope: 'one' },
      { LDAP_User_Search_Field: 'uid' },
      { LDAP_Unique_Identifier_Field: 'entryUUID' },
    ])
      expect(settingsFingerprint(configured(changed))).not.toBe(base);
  });

  it('refuses a plan made under other settings, one without a fingerprint, and one past the maximum age', () => {
    const fingerprint = settingsFingerprint(configured());
    const now = { fingerprint, at: 30 * HOUR, maxAgeMinutes: 24 * 60 };
    expect(
      planOutdated({ settingsFingerprint: fingerprint, finishedAt: new Date(10 * HOUR) }, now),
    ).toBeUndefined();
    expect(planOutdated({ settingsFingerprint: 'other', finishedAt: new Date(29 * HOUR) }, now)).toMatch(
      /settings changed/,
    );
    expect(planOutdated({ finishedAt: new Date(29 * HOUR) }, now)).toMatch(/settings changed/);
    expect(planOutdated({ settingsFingerprint: fingerprint, finishedAt: new Date(5 * HOUR) }, now)).toMatch(
      /older than ABAC_Sync_Plan_Max_Age_Minutes \(1440\)/,
    );
  });

  it('reads the maximum age from its setting, capped at a week; anything unusable is the default', () => {
    expect(maxPlanAgeMinutes({})).toBe(1440);
    expect(maxPlanAgeMinutes({ ABAC_Sync_Plan_Max_Age_Minutes: '60' })).toBe(60);
    expect(maxPlanAgeMinutes({ ABAC_Sync_Plan_Max_Age_Minutes: 20_000 })).toBe(1440);
    expect(maxPlanAgeMinutes({ ABAC_Sync_Plan_Max_Age_Minutes: 0 })).toBe(1440);
  });
});
