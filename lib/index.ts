export {
  createRouter,
  type AbacLdapSync,
  type AbacLdapSyncDeps,
  type RateLimitOptions,
  type SignedLicenseConfig,
} from './create-router';
export { InvalidRouterOptionsError } from './router-options';
export type { LdapPoolOptions } from './ldap/pooled-directory';
export { AbacLdapSyncService } from './sync/abac-ldap-sync-service';
export * from './errors';
export type { Authenticator, Credentials } from './http/auth';
export { hashLoginToken } from './http/auth';
export type { Caller } from './http/caller';
export type { Clock } from './clock';
export type { LicensePort, LicensePayload } from './http/license';
export { generateLicenseKeys, signLicense, SignedLicense, REQUIRED_LICENSE_MODULES } from './http/license';
export type { Logger } from './logger';
export type { RoomMemberRemover, RoomRemoval } from './sync/room-member-remover';
export { SETTING_DEFAULTS, type SettingId } from './settings';
export type {
  SyncReport,
  SyncRequest,
  SyncResponse,
  SyncSummary,
  UserSyncResult,
  UserSyncStatus,
} from './sync/sync-report';
export { syncRequestBodySchema, type SyncRequestBody } from './sync/sync-request';
export { USERS_SYNC_PATH } from '../routes/users-sync';
export { createSyncCore, type SyncCore, type SyncCoreDeps } from './create-sync-core';
export { SyncJobs, type StartRun } from './jobs/sync-jobs';
export { jobView, syncJobSchema, type SyncJob, type SyncJobView } from './jobs/sync-job';
export type { RunnerOptions } from './jobs/agenda-runner';
export type { FullSyncRunOptions } from './jobs/full-sync-run';
export { SYNC_JOBS_PATH } from '../routes/sync-jobs';
