/** The settings the module reads, with Rocket.Chat's ids; defaults per the semantics page §5. */
export const SETTING_DEFAULTS = {
  ABAC_Enabled: false,
  LDAP_Enable: false,
  LDAP_Host: '',
  LDAP_Port: 389,
  LDAP_Encryption: 'plain',
  LDAP_CA_Cert: '',
  LDAP_Reject_Unauthorized: true,
  LDAP_Connect_Timeout: 1000,
  LDAP_Timeout: 60000,
  LDAP_Authentication: false,
  LDAP_Authentication_UserDN: '',
  LDAP_Authentication_Password: '',
  LDAP_BaseDN: '',
  LDAP_User_Search_Filter: '(objectclass=*)',
  LDAP_User_Search_Scope: 'sub',
  LDAP_User_Search_Field: 'sAMAccountName',
  // The chat server's default: the first of these an entry has identifies it for good.
  LDAP_Unique_Identifier_Field: 'objectGUID,ibm-entryUUID,GUID,dominoUNID,nsuniqueId,uidNumber',
  LDAP_Search_Page_Size: 250,
  LDAP_Search_Size_Limit: 1000,
  LDAP_ABAC_AttributeMap: '{}',
  Accounts_LoginExpiration: 90,
  // Directory-wide runs on a schedule: off by default, daily at midnight (host time) when switched on.
  LDAP_Background_Sync_ABAC_Attributes: false,
  LDAP_Background_Sync_ABAC_Attributes_Interval: '0 0 * * *',
  // A directory-wide run whose plan takes values from more users than both of these stops, blocked.
  ABAC_Sync_Guard_Max_Revoked_Percent: 10,
  ABAC_Sync_Guard_Min_Users: 20,
  // Users who lost values through unattended syncs in this many minutes count against the guard together.
  ABAC_Sync_Guard_Window_Minutes: 60,
  // How long a dry run's or a blocked run's plan is kept for review, then removed.
  ABAC_Sync_Plan_Retention_Minutes: 1440,
  // A kept plan older than this is refused at apply (at most a week).
  ABAC_Sync_Plan_Max_Age_Minutes: 1440,
  // At most this many plans are kept for review; older ones expire first.
  ABAC_Sync_Plans_Kept_Max: 20,
  // Finished runs are removed this many days after they ended (a kept plan's run once its plan expired).
  ABAC_Sync_Job_Retention_Days: 30,
  // What undo needs (the values users held, the subscriptions ended) is kept this many days, then removed.
  ABAC_Sync_Undo_Retention_Days: 7,
  // The changed-entries feed: users follow a directory change within seconds (off by default).
  ABAC_Sync_Change_Feed_Enabled: false,
  ABAC_Sync_Change_Feed_Interval_Seconds: 2,
  // Every poll reads again this far behind the newest change applied: a change that reaches the server late
  // (replication from another provider, a replica that was behind) carries its older time.
  ABAC_Sync_Change_Feed_Overlap_Seconds: 300,
  // Users holding a group DN the directory no longer lists (a group deleted or moved) are synced, a pass
  // through every user this often (0: never).
  ABAC_Sync_Change_Feed_Reconcile_Minutes: 60,
  // Where the groups are whose membership reaches users through memberOf (empty: LDAP_BaseDN).
  ABAC_Sync_Change_Feed_Group_Base_DN: '',
  ABAC_Sync_Change_Feed_Group_Filter:
    '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))',
} as const;

export type SettingId = keyof typeof SETTING_DEFAULTS;
/** Raw values as stored (unknown until a reader validates the ones it needs). */
export type SettingsSnapshot = Readonly<Record<SettingId, unknown>>;

export const SETTING_IDS = Object.keys(SETTING_DEFAULTS) as SettingId[];

export interface SettingsSource {
  current(): Promise<SettingsSnapshot>;
}

/** Rocket.Chat stores most booleans as booleans but some hosts write 'true'/'false'. */
export function booleanSetting(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function numberSetting(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}
