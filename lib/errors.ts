/**
 * Every failure the module reports carries its HTTP status and stable code; the router's error middleware
 * is the only place that turns them into responses.
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

export abstract class AbacSyncError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Seconds a client should wait before retrying, sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined = undefined;
  readonly details: ErrorDetail[] | undefined = undefined;
  /** More fields of the error body (e.g. the job a 409 is about). */
  readonly extra: Record<string, unknown> | undefined = undefined;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What the caller is told; `message` may hold more (server addresses, diagnostics) for the logs. */
  get publicMessage(): string {
    return this.message;
  }
}

export class UnauthorizedError extends AbacSyncError {
  readonly status = 401;
  readonly code = 'error-unauthorized';
  constructor() {
    super('You must be logged in to do this.');
  }
}

export class EnterpriseLicenseRequiredError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-action-not-allowed';
  constructor() {
    super('This is an enterprise feature');
  }
}

export class NotAuthorizedError extends AbacSyncError {
  readonly status = 403;
  readonly code = 'error-not-authorized';
  constructor() {
    super('Missing required ABAC permissions');
  }
}

export class InvalidBodyError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-invalid-body-params';
  override readonly details: ErrorDetail[];
  constructor(details: ErrorDetail[], message = 'The request body is invalid') {
    super(message);
    this.details = details;
  }
}

/** A query parameter is invalid (e.g. `limit`); details name it. */
export class InvalidParamsError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-invalid-params';
  override readonly details: ErrorDetail[];
  constructor(details: ErrorDetail[]) {
    super('The request parameters are invalid');
    this.details = details;
  }
}

/** The path cannot be read: a percent-encoding that decodes to no text (`%ZZ`, `%E0%A4%A`). */
export class MalformedPathError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-invalid-path';
  constructor() {
    super('The request path is not valid percent-encoded text');
  }
}

/** No route of the module answers this path. */
export class RouteNotFoundError extends AbacSyncError {
  readonly status = 404;
  readonly code = 'error-not-found';
  constructor() {
    super('No such route');
  }
}

/** The path is a route of the module, but not for this method; `allow` lists those it answers. */
export class MethodNotAllowedError extends AbacSyncError {
  readonly status = 405;
  readonly code = 'error-method-not-allowed';
  constructor(readonly allow: readonly string[]) {
    super(`This route answers ${allow.join(', ')}`);
  }
}

export class PayloadTooLargeError extends AbacSyncError {
  readonly status = 413;
  readonly code = 'error-payload-too-large';
  constructor(limitBytes: number) {
    super(`The request body is larger than ${limitBytes} bytes`);
  }
}

export class AbacNotEnabledError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-abac-not-enabled';
  constructor() {
    super('ABAC is not enabled (setting ABAC_Enabled)');
  }
}

export class LdapNotEnabledError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-ldap-not-enabled';
  constructor() {
    super('LDAP is not enabled (setting LDAP_Enable)');
  }
}

export class AttributeMapInvalidError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-abac-attribute-map-invalid';
}

/**
 * Several entries were found and none carries a mapped attribute while their users hold attributes: a broken
 * map or a bind account that lost read rights, not a directory that emptied itself. Nothing is written.
 */
export class MappingMatchesNothingError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-abac-mapping-matches-nothing';
  override readonly details: ErrorDetail[];
  constructor(attributeNames: readonly string[], entries: number) {
    const names = attributeNames.join(', ');
    super(
      `No entry found carries any mapped attribute (${names}): check LDAP_ABAC_AttributeMap and the bind ` +
        "account's read rights. Nothing was written.",
    );
    this.details = [
      { path: 'LDAP_ABAC_AttributeMap', message: `none of the ${entries} entries found carries ${names}` },
    ];
  }
}

export class TooManyRequestsError extends AbacSyncError {
  readonly status = 429;
  readonly code = 'error-too-many-requests';
  override readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('Too many requests; retry later');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class LdapUnavailableError extends AbacSyncError {
  readonly status = 503;
  readonly code = 'error-ldap-unavailable';
  override readonly retryAfterSeconds = 30;

  /** Server URLs and the server's diagnostics are logged, never sent to the caller. */
  override get publicMessage(): string {
    return 'The LDAP directory is unavailable; retry later';
  }
}

/** The connection closed under a request (the server went away or dropped an idle connection). */
export class LdapConnectionLostError extends LdapUnavailableError {}

/**
 * A search ended at a size limit (LDAP_Search_Size_Limit or the server's own). The lookup splits such a
 * search; should one escape, it is a 503 whose log names the setting.
 */
export class LdapSizeLimitExceededError extends LdapUnavailableError {}

export class DatabaseUnavailableError extends AbacSyncError {
  readonly status = 503;
  readonly code = 'error-database-unavailable';
  override readonly retryAfterSeconds = 30;
}

export class InternalError extends AbacSyncError {
  readonly status = 500;
  readonly code = 'error-internal';
}

export class LdapSettingsInvalidError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-ldap-settings-invalid';
}

/** A directory-wide run is queued or running already; the body carries it. */
export class SyncAlreadyRunningError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-already-running';
  override readonly extra: { job: unknown };
  constructor(job: unknown) {
    super('A directory-wide sync run is already queued or running');
    this.extra = { job };
  }
}

export class SyncJobNotFoundError extends AbacSyncError {
  readonly status = 404;
  readonly code = 'error-sync-job-not-found';
  constructor() {
    super('No sync run has this id');
  }
}

/** The run has ended: there is nothing to cancel. The body carries it as it ended. */
export class SyncJobEndedError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-job-ended';
  override readonly extra: { job: unknown };
  constructor(job: unknown) {
    super('The run has ended already: nothing to cancel');
    this.extra = { job };
  }
}

/** The run keeps no plan to review: only a completed dry run and a blocked run do. */
export class SyncPlanNotReviewableError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-plan-not-reviewable';
  constructor() {
    super('Only a completed dry run or a blocked run keeps a plan to review');
  }
}

/** Undo names an id no sync, run or feed batch made changes under. */
export class ChangeSetNotFoundError extends AbacSyncError {
  readonly status = 404;
  readonly code = 'error-sync-change-set-not-found';
  constructor() {
    super('No sync, run or feed batch made changes under this id');
  }
}

/** Undo names a change set whose undo journal was removed after ABAC_Sync_Undo_Retention_Days. */
export class SyncUndoExpiredError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-undo-expired';
  constructor() {
    super('What undo needs for this change set was kept ABAC_Sync_Undo_Retention_Days and is gone');
  }
}

/** Undo names a dry run, an undo's plan or a blocked run: it changed nothing. */
export class SyncUndoDryRunError extends AbacSyncError {
  readonly status = 400;
  readonly code = 'error-sync-undo-dry-run';
  constructor() {
    super(
      'A dry run or a blocked run changed nothing: there is nothing to undo (undo the run that applied it)',
    );
  }
}

/** The plan was kept for ABAC_Sync_Plan_Retention_Minutes and is gone. */
export class SyncPlanExpiredError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-plan-expired';
  constructor() {
    super('The plan has expired (ABAC_Sync_Plan_Retention_Minutes); start a new dry run');
  }
}

/** The plan was made under other settings, or is too old, to be applied as reviewed. */
export class SyncPlanOutdatedError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-plan-outdated';
  constructor(reason: string) {
    super(`The plan may not be applied: ${reason}; start a new dry run`);
  }
}

/** The plan was applied already, by a run that completed: a new dry run makes a new plan. */
export class SyncPlanAlreadyAppliedError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-plan-already-applied';
  override readonly extra: { appliedBy: string };
  constructor(appliedBy: string) {
    super('The plan has been applied already; start a new dry run to plan again');
    this.extra = { appliedBy };
  }
}

/** A run applying the plan is queued or running (another admin's apply, or this one's twin). */
export class SyncPlanRunningError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-sync-plan-running';
  override readonly extra: { appliedBy?: string };
  constructor(appliedBy: string | undefined) {
    super('A run applying this plan is queued or running');
    this.extra = appliedBy ? { appliedBy } : {};
  }
}

/** The changed-entries feed holds no blocked changes to discard. */
export class FeedNotBlockedError extends AbacSyncError {
  readonly status = 409;
  readonly code = 'error-feed-not-blocked';
  constructor() {
    super('The change feed is not blocked');
  }
}
