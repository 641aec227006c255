import { z } from 'zod';
import { SETTING_DEFAULTS } from '../lib/settings';

/** Thrown by createRouter when the host passes an option it cannot use; nothing has been written yet. */
export class InvalidRouterOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid createRouter options: ${problems.join('; ')}`);
    this.name = 'InvalidRouterOptionsError';
  }
}

/** An object with these methods (ports are checked by shape: hosts bring their own classes). */
const withMethods = (description: string, ...methods: string[]) =>
  z.custom<object>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
    { message: `must be ${description} (with ${methods.map((method) => `${method}()`).join(', ')})` },
  );

const milliseconds = z.int().min(0);
const count = z.int().min(0);

const routerOptionsSchema = z.strictObject({
  connection: withMethods("the host's mongoose Connection", 'model', 'collection'),
  license: z.union([
    withMethods('a license port', 'hasModules'),
    z.strictObject({
      license: z.string().min(1),
      publicKey: z.union([z.string().min(1), z.custom<object>()]),
    }),
  ]),
  authenticator: withMethods('an authenticator', 'authenticate').optional(),
  memberRemover: withMethods('a room member remover', 'remove').optional(),
  memberRestorer: withMethods('a room member restorer', 'restore').optional(),
  logger: withMethods('a logger', 'debug', 'info', 'warn', 'error').optional(),
  settings: z
    .record(z.string(), z.unknown())
    .refine((settings) => Object.keys(settings).every((id) => id in SETTING_DEFAULTS), {
      message: `may only name these settings: ${Object.keys(SETTING_DEFAULTS).join(', ')}`,
    })
    .optional(),
  settingsCacheTtlMs: milliseconds.optional(),
  permissionsCacheTtlMs: milliseconds.optional(),
  bodyLimitBytes: z
    .int()
    .min(2)
    .max(64 * 1024 * 1024)
    .optional(),
  clock: withMethods('a clock', 'now').optional(),
  directory: withMethods('a directory', 'open').optional(),
  metricsRegistry: z
    .union([z.literal(false), withMethods('a prom-client Registry', 'getSingleMetric')])
    .optional(),
  rateLimit: z
    .union([
      z.literal(false),
      z.strictObject({
        syncsPerMinute: count.optional(),
        readsPerMinute: count.optional(),
        failedAuthPerMinute: count.optional(),
        failedAuthPerAddressPerMinute: count.optional(),
        store: z.enum(['mongo', 'memory']).optional(),
      }),
    ])
    .optional(),
  ldapPool: z
    .union([
      z.literal(false),
      z.strictObject({
        maxIdle: count.optional(),
        idleTimeoutMs: z.int().min(1).optional(),
        maxOpen: z.int().min(1).optional(),
      }),
    ])
    .optional(),
  adminPage: z.union([z.boolean(), z.strictObject({ signInFromLink: z.boolean() })]).optional(),
  jobRunner: z
    .union([
      z.literal(false),
      z
        .strictObject({
          processEveryMs: z.int().min(10).optional(),
          lockLifetimeMs: z.int().min(100).optional(),
          maintainEveryMs: z.int().min(10).optional(),
          heartbeatMs: z.int().min(10).optional(),
          planBatchSize: z.int().min(1).max(100_000).optional(),
          applyBatchSize: z.int().min(1).max(10_000).optional(),
          directoryRead: z.enum(['subtree', 'lookups']).optional(),
          mapHeapLimitMb: z.union([z.literal(false), z.int().min(2).max(65_536)]).optional(),
          feedBatchSize: z.int().min(1).max(10_000).optional(),
        })
        .refine((runner) => (runner.heartbeatMs ?? 1000) * 3 <= (runner.lockLifetimeMs ?? 30_000), {
          message: 'heartbeatMs must be at most a third of lockLifetimeMs, or the lock lapses between beats',
        }),
    ])
    .optional(),
});

/** Checks every option at start, so a bad one fails the host's start-up, never a sync halfway. */
export function checkRouterOptions(options: unknown): void {
  const parsed = routerOptionsSchema.safeParse(options);
  if (parsed.success) return;
  throw new InvalidRouterOptionsError(
    parsed.error.issues.flatMap((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((key) => `${path ? `${path}.` : ''}${key}: unknown option`);
      return [`${path || '(options)'}: ${issue.message}`];
    }),
  );
}
