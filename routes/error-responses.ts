// What each route may answer besides its success, with the stable codes: the OpenAPI document's error
// responses, and the list the document's test checks every error class against.

export type ErrorResponse = { description: string; codes: readonly string[]; retryAfter?: boolean };

const SETTINGS_CODES = [
  'error-action-not-allowed',
  'error-abac-not-enabled',
  'error-ldap-not-enabled',
  'error-abac-attribute-map-invalid',
  'error-ldap-settings-invalid',
] as const;

/** The answers of the gate every route passes first (login, rate, license, permissions, settings). */
const GATE_RESPONSES = {
  400: {
    description:
      'Refused before any work: the license does not cover the feature, ABAC or LDAP is off, or the LDAP ' +
      'settings or attribute map are unusable.',
    codes: SETTINGS_CODES,
  },
  401: {
    description: 'Not logged in: the same answer whatever was wrong with the user id or token.',
    codes: ['error-unauthorized'],
  },
  403: { description: 'The caller lacks a required permission.', codes: ['error-not-authorized'] },
  429: {
    description: 'Too many requests from this caller, or too many failed logins from this address.',
    codes: ['error-too-many-requests'],
    retryAfter: true,
  },
  500: { description: 'An unexpected error; the body carries the request id.', codes: ['error-internal'] },
  503: {
    description: 'The database is unavailable. Nothing was written.',
    codes: ['error-database-unavailable'],
    retryAfter: true,
  },
} as const satisfies Record<number, ErrorResponse>;

/**
 * The gate alone, without the settings checks: the routes an admin needs to read and stop runs and the feed
 * answer even with ABAC or LDAP switched off (the emergency stop).
 */
const GATE_ONLY_RESPONSES = {
  ...GATE_RESPONSES,
  400: {
    description: 'Refused before any work: the license does not cover the feature.',
    codes: ['error-action-not-allowed'],
  },
} as const satisfies Record<number, ErrorResponse>;

const BODY_REFUSED = (what: string): ErrorResponse => ({
  description: `Refused before any work: ${what}, the license does not cover the feature, ABAC or LDAP is off, or the LDAP settings or attribute map are unusable.`,
  codes: ['error-invalid-body-params', ...SETTINGS_CODES],
});
/** A body refused by a route behind the gate alone. */
const BODY_REFUSED_BY_GATE = (what: string): ErrorResponse => ({
  description: `Refused before any work: ${what}, or the license does not cover the feature.`,
  codes: ['error-invalid-body-params', 'error-action-not-allowed'],
});
const TOO_LARGE: ErrorResponse = {
  description: 'The body is larger than the limit the host set.',
  codes: ['error-payload-too-large'],
};
const JOB_NOT_FOUND: ErrorResponse = {
  description: 'No run has this id.',
  codes: ['error-sync-job-not-found'],
};
/** A run id in the path that decodes to no text (`%ZZ`), refused before anything else. */
const withMalformedPath = (response: ErrorResponse): ErrorResponse => ({
  description: `${response.description} Or the path's run id is not valid percent-encoded text.`,
  codes: [...response.codes, 'error-invalid-path'],
});
/** Answered for what no operation takes: another method on a path (405, with Allow) or an unknown path (404). */
export const OUTSIDE_OPERATIONS = ['error-method-not-allowed', 'error-not-found'] as const;

/** Every error status each operation answers, with the codes it can carry; the body is always ErrorBody. */
export const ERROR_RESPONSES = {
  sync: {
    ...GATE_RESPONSES,
    400: BODY_REFUSED('the body is invalid'),
    409: {
      description:
        'Several entries were found and none carries a mapped attribute while their users hold attributes: ' +
        'the attribute map or the bind account is broken. Nothing was written; details name the attributes.',
      codes: ['error-abac-mapping-matches-nothing'],
    },
    413: TOO_LARGE,
    503: {
      description: 'The directory or the database is unavailable. Nothing was written.',
      codes: ['error-ldap-unavailable', 'error-database-unavailable'],
      retryAfter: true,
    },
  },
  startRun: {
    ...GATE_RESPONSES,
    400: BODY_REFUSED('the body is invalid'),
    409: {
      description: 'A run is queued or running already; the body carries it as `job`. Nothing was started.',
      codes: ['error-sync-already-running'],
    },
    413: TOO_LARGE,
  },
  listRuns: {
    ...GATE_ONLY_RESPONSES,
    400: {
      description:
        'Refused before any work: `limit` is not a whole number from 1 to 100 or another parameter was sent, ' +
        'or the license does not cover the feature.',
      codes: ['error-invalid-params', 'error-action-not-allowed'],
    },
  },
  readRun: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath(GATE_ONLY_RESPONSES[400]),
    404: JOB_NOT_FOUND,
  },
  readFeed: { ...GATE_ONLY_RESPONSES },
  readSignedInUser: { ...GATE_ONLY_RESPONSES },
  discardFeed: {
    ...GATE_ONLY_RESPONSES,
    400: BODY_REFUSED_BY_GATE('the body is not empty'),
    409: {
      description: 'The feed holds no blocked changes. Nothing was changed.',
      codes: ['error-feed-not-blocked'],
    },
    413: TOO_LARGE,
  },
  listChanges: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath({
      description:
        'Refused before any work: a parameter is invalid (`status`, `stale`, `cursor`, `limit` from 1 to 500, or one ' +
        'not listed), or the license does not cover the feature.',
      codes: ['error-invalid-params', 'error-action-not-allowed'],
    }),
    404: JOB_NOT_FOUND,
    409: {
      description:
        'The run keeps no plan to review (only a completed dry run or a blocked run does), or its plan has ' +
        'expired (ABAC_Sync_Plan_Retention_Minutes).',
      codes: ['error-sync-plan-not-reviewable', 'error-sync-plan-expired'],
    },
  },
  planSummary: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath(GATE_ONLY_RESPONSES[400]),
    404: JOB_NOT_FOUND,
    409: {
      description:
        'The run keeps no plan (only a completed dry run, a blocked run or an undo does), or its plan has ' +
        'expired (ABAC_Sync_Plan_Retention_Minutes).',
      codes: ['error-sync-plan-not-reviewable', 'error-sync-plan-expired'],
    },
  },
  applyPlan: {
    ...GATE_RESPONSES,
    400: withMalformedPath(BODY_REFUSED('the body is not empty')),
    404: JOB_NOT_FOUND,
    409: {
      description:
        'Nothing was started. The run keeps no plan (only a completed dry run or a blocked run does); its plan ' +
        'has expired; it was made under other settings (the attribute map, base DN, filter, scope or ' +
        'identifying fields) or is older than ABAC_Sync_Plan_Max_Age_Minutes; a run applying it is queued or ' +
        'running (`appliedBy`); it was applied by a run that completed (`appliedBy`); or another run holds ' +
        'the slot (`job`).',
      codes: [
        'error-sync-plan-not-reviewable',
        'error-sync-plan-expired',
        'error-sync-plan-outdated',
        'error-sync-plan-running',
        'error-sync-plan-already-applied',
        'error-sync-already-running',
      ],
    },
    413: TOO_LARGE,
  },
  undo: {
    ...GATE_RESPONSES,
    400: {
      ...BODY_REFUSED('the body is invalid (exactly one of jobId and requestId)'),
      codes: [...BODY_REFUSED('').codes, 'error-sync-undo-dry-run'],
      description:
        BODY_REFUSED('the body is invalid (exactly one of jobId and requestId)').description +
        ' Or the id is a dry run or a blocked run: it changed nothing.',
    },
    404: {
      description: 'No sync, run or feed batch made changes under this id.',
      codes: ['error-sync-change-set-not-found'],
    },
    409: {
      description:
        'Nothing was planned. What undo needs for this change set was removed after ' +
        'ABAC_Sync_Undo_Retention_Days, or a run is queued or running (`job`): the one named, or another.',
      codes: ['error-sync-undo-expired', 'error-sync-already-running'],
    },
    413: TOO_LARGE,
  },
  cancelRun: {
    ...GATE_ONLY_RESPONSES,
    400: withMalformedPath(BODY_REFUSED_BY_GATE('the body is not empty')),
    404: JOB_NOT_FOUND,
    409: {
      description: 'The run has ended already; the body carries it as `job`. Nothing was changed.',
      codes: ['error-sync-job-ended'],
    },
    413: TOO_LARGE,
  },
} as const satisfies Record<string, Record<number, ErrorResponse>>;
