import { FilterParser } from 'ldapts';
import { parseAttributeMap, type AttributeMapping } from './attribute-mapping';
import { AbacNotEnabledError, LdapNotEnabledError, LdapSettingsInvalidError } from '../errors';
import type { LdapConnectionSettings, SearchScope } from '../ldap/directory';
import {
  booleanSetting,
  numberSetting,
  SETTING_DEFAULTS,
  type SettingId,
  type SettingsSnapshot,
} from '../settings';

export interface UserSearchSettings {
  baseDN: string;
  scope: SearchScope;
  /** LDAP_User_Search_Filter, already checked to parse. */
  userFilter: string;
  /** LDAP_User_Search_Field: the attributes compared with the username. */
  searchFields: string[];
  /**
   * LDAP_Unique_Identifier_Field: the attributes that may hold a user's stored `services.ldap.id` when the
   * user does not name its `idAttribute`.
   */
  uniqueIdentifierFields: string[];
  pageSize: number;
  sizeLimit: number;
}

export interface SyncConfiguration {
  connection: LdapConnectionSettings;
  search: UserSearchSettings;
  mapping: AttributeMapping;
}

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

const parsed = new WeakMap<SettingsSnapshot, SyncConfiguration>();

/** The error that says which switch is off (ABAC_Enabled first, then LDAP_Enable); undefined when both are on. */
export function switchedOff(
  snapshot: Pick<SettingsSnapshot, 'ABAC_Enabled' | 'LDAP_Enable'>,
): AbacNotEnabledError | LdapNotEnabledError | undefined {
  if (!booleanSetting(snapshot.ABAC_Enabled)) return new AbacNotEnabledError();
  if (!booleanSetting(snapshot.LDAP_Enable)) return new LdapNotEnabledError();
  return undefined;
}

/**
 * Checks, in the documented order, that a sync may run (ABAC_Enabled, LDAP_Enable, the attribute map) and
 * reads the LDAP settings. Computed once per settings snapshot, so once per settings change.
 */
export function syncConfiguration(snapshot: SettingsSnapshot): SyncConfiguration {
  const off = switchedOff(snapshot);
  if (off) throw off;
  const cached = parsed.get(snapshot);
  if (cached) return cached;
  const mapping = parseAttributeMap(snapshot.LDAP_ABAC_AttributeMap);
  const configuration = {
    connection: connectionSettings(snapshot),
    search: searchSettings(snapshot),
    mapping,
  };
  parsed.set(snapshot, configuration);
  return configuration;
}

function connectionSettings(snapshot: SettingsSnapshot): LdapConnectionSettings {
  const hosts = list(text(snapshot, 'LDAP_Host'));
  if (hosts.length === 0) throw new LdapSettingsInvalidError('LDAP_Host is empty');
  const encryption = text(snapshot, 'LDAP_Encryption') || 'plain';
  if (encryption !== 'plain' && encryption !== 'tls' && encryption !== 'ssl') {
    throw new LdapSettingsInvalidError('LDAP_Encryption must be plain, tls or ssl');
  }
  const authenticate = booleanSetting(snapshot.LDAP_Authentication) ?? false;
  return {
    hosts,
    port: integer(snapshot, 'LDAP_Port', 1, 65535),
    encryption,
    caCertPem: text(snapshot, 'LDAP_CA_Cert') || undefined,
    rejectUnauthorized: booleanSetting(snapshot.LDAP_Reject_Unauthorized) ?? true,
    connectTimeoutMs: integer(snapshot, 'LDAP_Connect_Timeout', 1, 600_000),
    operationTimeoutMs: integer(snapshot, 'LDAP_Timeout', 1, 3_600_000),
    bind: authenticate
      ? {
          dn: text(snapshot, 'LDAP_Authentication_UserDN'),
          password: text(snapshot, 'LDAP_Authentication_Password'),
        }
      : undefined,
  };
}

function searchSettings(snapshot: SettingsSnapshot): UserSearchSettings {
  const userFilter = text(snapshot, 'LDAP_User_Search_Filter') || SETTING_DEFAULTS.LDAP_User_Search_Filter;
  try {
    FilterParser.parseString(userFilter);
  } catch {
    throw new LdapSettingsInvalidError('LDAP_User_Search_Filter is not a valid LDAP filter');
  }
  const scope = text(snapshot, 'LDAP_User_Search_Scope') || 'sub';
  if (scope !== 'base' && scope !== 'one' && scope !== 'sub') {
    throw new LdapSettingsInvalidError('LDAP_User_Search_Scope must be base, one or sub');
  }
  const searchFields = list(text(snapshot, 'LDAP_User_Search_Field'));
  if (searchFields.length === 0) throw new LdapSettingsInvalidError('LDAP_User_Search_Field is empty');
  const uniqueIdentifierFields = list(text(snapshot, 'LDAP_Unique_Identifier_Field'));
  for (const field of [...searchFields, ...uniqueIdentifierFields]) {
    if (!ATTRIBUTE_NAME.test(field))
      throw new LdapSettingsInvalidError(`"${field}" is not an LDAP attribute name`);
  }
  return {
    baseDN: text(snapshot, 'LDAP_BaseDN'),
    scope,
    userFilter,
    searchFields,
    uniqueIdentifierFields,
    pageSize: integer(snapshot, 'LDAP_Search_Page_Size', 1, 10_000),
    sizeLimit: integer(snapshot, 'LDAP_Search_Size_Limit', 0, 10_000_000),
  };
}

function text(snapshot: SettingsSnapshot, id: SettingId): string {
  const value = snapshot[id];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new LdapSettingsInvalidError(`${id} must be a string`);
  return value.trim();
}

function integer(snapshot: SettingsSnapshot, id: SettingId, min: number, max: number): number {
  const value = numberSetting(snapshot[id]);
  if (value === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new LdapSettingsInvalidError(`${id} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
