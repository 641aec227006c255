import { z } from 'zod';

// What the /jobs routes accept: strict, so unknown keys are refused with details.

export const DEFAULT_JOB_LIST_LIMIT = 20;
export const MAX_JOB_LIST_LIMIT = 100;

export const startRunBodySchema = z
  .strictObject({ dryRun: z.boolean().optional().meta({ description: 'Plan only; write nothing.' }) })
  .meta({ id: 'StartRunBody' });

export const cancelRunBodySchema = z.strictObject({}).meta({ id: 'CancelRunBody' });

export const applyPlanBodySchema = z.strictObject({}).meta({ id: 'ApplyPlanBody' });

export const discardFeedBodySchema = z.strictObject({}).meta({ id: 'DiscardFeedBody' });

const changeSetId = z.string().trim().min(1).max(200);
export const undoBodySchema = z
  .union([
    z.strictObject({
      jobId: changeSetId.meta({ description: "A run's or an applied plan's job id (also an undo's apply)." }),
    }),
    z.strictObject({
      requestId: changeSetId.meta({
        description: "A named-users sync's request id (its X-Request-Id), or a feed batch's id.",
      }),
    }),
  ])
  .meta({ id: 'UndoBody', description: 'The change set to take back: exactly one of jobId and requestId.' });

/** Rocket.Chat's list convention: `count` items after skipping `offset`; the answer adds `total`. */
const offset = z.coerce
  .number()
  .int()
  .min(0)
  .max(1_000_000)
  .optional()
  .meta({ description: 'How many to skip first (default 0).' });

export const listRunsQuerySchema = z.strictObject({
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_JOB_LIST_LIMIT)
    .optional()
    .meta({
      description: `How many runs, newest first (1 to ${MAX_JOB_LIST_LIMIT}; default ${DEFAULT_JOB_LIST_LIMIT}).`,
    }),
  offset,
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_JOB_LIST_LIMIT)
    .optional()
    .meta({ description: 'The same as count (its earlier name).' }),
});

export const DEFAULT_CHANGES_PAGE = 100;
export const MAX_CHANGES_PAGE = 500;
const MAX_USERNAME_SEARCH = 100;

export const listChangesQuerySchema = z.strictObject({
  status: z
    .enum(['updated', 'cleared', 'unchanged'])
    .optional()
    .meta({ description: 'Only changes of this status (unchanged: users who only leave rooms).' }),
  losesRooms: z.literal('true').optional().meta({
    description: 'Only users who would leave at least one room, whatever their status.',
  }),
  username: z
    .string()
    .min(1)
    .max(MAX_USERNAME_SEARCH)
    .regex(/^[^\p{Cc}]*$/u, 'must not hold control characters')
    .optional()
    .meta({ description: 'Only users whose username starts with this text, ignoring case.' }),
  stale: z.literal('true').optional().meta({
    description: 'Only the users an apply of this plan skipped because their value had changed since.',
  }),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,1400}$/, 'must be a cursor this route returned')
    .optional()
    .meta({ description: 'nextCursor of the previous page.' }),
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CHANGES_PAGE)
    .optional()
    .meta({ description: `Changes per page (1 to ${MAX_CHANGES_PAGE}; default ${DEFAULT_CHANGES_PAGE}).` }),
  offset: offset.meta({ description: 'How many matching changes to skip first (instead of a cursor).' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_CHANGES_PAGE)
    .optional()
    .meta({ description: 'The same as count (its earlier name).' }),
});
