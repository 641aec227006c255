import { z } from 'zod';

// What the /jobs routes accept: strict, so unknown keys are refused with details.

export const DEFAULT_JOB_LIST_LIMIT = 20;
export const MAX_JOB_LIST_LIMIT = 100;

export const startRunBodySchema = z
  .strictObject({ dryRun: z.boolean().optional().meta({ description: 'Plan only; write nothing.' }) })
  .meta({ id: 'StartRunBody' });

export const cancelRunBodySchema = z.strictObject({}).meta({ id: 'CancelRunBody' });

export const listRunsQuerySchema = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_JOB_LIST_LIMIT)
    .default(DEFAULT_JOB_LIST_LIMIT)
    .meta({ description: `How many runs, newest first (1 to ${MAX_JOB_LIST_LIMIT}).` }),
});
