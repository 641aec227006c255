export {
  createRouter,
  type AbacLdapSync,
  type AbacLdapSyncDeps,
  type RateLimitOptions,
  type SignedLicenseConfig,
} from './create-router';
export { InvalidRouterOptionsError } from './router-options';
export type { LdapPoolOptions } from '../lib/ldap/pooled-directory';
export { AbacLdapSyncService } from '../lib/sync/abac-ldap-sync-service';
export * from '../lib/errors';
export type { Authenticator, Credentials } from '../lib/access/authenticator';
export { hashLoginToken } from '../lib/access/authenticator';
export type { Caller } from '../lib/access/caller';
export type { Clock } from '../lib/clock';
export type { LicensePort, LicensePayload } from '../lib/access/license';
export {
  generateLicenseKeys,
  signLicense,
  SignedLicense,
  REQUIRED_LICENSE_MODULES,
} from '../lib/access/license';
export type { Logger } from '../lib/logger';
export type { RoomMemberRemover, RoomRemoval } from '../lib/sync/room-member-remover';
export { SETTING_DEFAULTS, type SettingId } from '../lib/settings';
export type {
  SyncReport,
  SyncRequest,
  SyncResponse,
  SyncSummary,
  UserSyncResult,
  UserSyncStatus,
} from '../lib/sync/sync-report';
export { syncRequestBodySchema, type SyncRequestBody } from '../lib/sync/sync-request';
export { USERS_SYNC_PATH } from '../routes/users-sync';
export { createSyncCore, type SyncCore, type SyncCoreDeps } from './create-sync-core';
export { SyncJobs, type StartRun } from '../lib/jobs/sync-jobs';
export { jobView, syncJobSchema, type SyncJob, type SyncJobView } from '../lib/jobs/sync-job';
export type { RunnerOptions } from '../lib/jobs/agenda-runner';
export type { FullSyncRunOptions } from '../lib/jobs/full-sync-run';
export { SYNC_JOBS_PATH } from '../routes/sync-jobs';
