export {
  createRouter,
  type AbacLdapSync,
  type AbacLdapSyncDeps,
  type RateLimitOptions,
  type SignedLicenseConfig,
} from './create-router';
export { InvalidRouterOptionsError } from './router-options';
export type { LdapPoolOptions } from './ldap/pooled-directory';
export { AbacLdapSyncService } from './abac-ldap-sync-service';
export * from './errors';
export type { Authenticator, Credentials } from './auth';
export { hashLoginToken } from './auth';
export type { Caller } from './caller';
export type { Clock } from './clock';
export type { LicensePort, LicensePayload } from './license';
export { generateLicenseKeys, signLicense, SignedLicense, REQUIRED_LICENSE_MODULES } from './license';
export type { Logger } from './logger';
export type { RoomMemberRemover, RoomRemoval } from './room-member-remover';
export { SETTING_DEFAULTS, type SettingId } from './settings';
export type {
  SyncReport,
  SyncRequest,
  SyncResponse,
  SyncSummary,
  UserSyncResult,
  UserSyncStatus,
} from './sync-report';
export { syncRequestBodySchema, type SyncRequestBody } from './sync-request';
export { USERS_SYNC_PATH } from '../routes/users-sync';
