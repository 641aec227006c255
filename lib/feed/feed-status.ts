import { z } from 'zod';
import type { SettingsSnapshot } from '../settings';
import { feedSettings } from './feed-settings';
import type { FeedState } from './feed-store';

export const feedStatusSchema = z
  .object({
    enabled: z.boolean().meta({ description: 'ABAC_Sync_Change_Feed_Enabled.' }),
    state: z.enum(['off', 'starting', 'following', 'failing', 'blocked']).meta({
      description:
        'off: switched off; starting: no position yet (the first poll finds where the directory stands); ' +
        'following: the last poll succeeded; failing: the last poll failed (see error; ' +
        'error-feed-no-change-times: nothing to start from), and is retried; ' +
        'blocked: the guard stopped changes that take values from too many users (see blockedJobId).',
    }),
    blockedJobId: z
      .string()
      .optional()
      .meta({
        description:
          'While blocked: the run (trigger feed) that keeps the stopped changes’ plan. Review it with GET ' +
          '…/jobs/{jobId}/changes, apply it with POST …/jobs/{jobId}/apply, or discard it with POST …/feed/discard.',
      }),
    intervalSeconds: z.number(),
    watermark: z.string().optional().meta({
      description:
        'The newest directory change time applied, in the directory’s own time (generalized time).',
    }),
    lastPollAt: z.iso.datetime().optional(),
    lastChangeAppliedAt: z.iso.datetime().optional(),
    lagSeconds: z
      .number()
      .optional()
      .meta({
        description:
          'Seconds since the last successful poll began: no change the directory server had by then is still ' +
          'unread, unless it reached the server later than ABAC_Sync_Change_Feed_Overlap_Seconds after it was made.',
      }),
    changesApplied: z.int().nonnegative(),
    lastReconciledAt: z.iso
      .datetime()
      .optional()
      .meta({
        description:
          'When the last pass through every user holding group DNs ended (ABAC_Sync_Change_Feed_Reconcile_Minutes): ' +
          'those holding a DN the directory no longer lists were synced.',
      }),
    consumer: z.string().optional().meta({ description: 'host:pid of the process that polled last.' }),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'FeedStatus' });

export type FeedStatus = z.infer<typeof feedStatusSchema>;

/** What the status route shows of the feed's state (pure). */
export function feedStatus(state: FeedState, snapshot: SettingsSnapshot, now: number): FeedStatus {
  const { enabled, intervalMs } = feedSettings(snapshot);
  const iso = (date: Date | undefined) => date?.toISOString();
  return {
    enabled,
    state: !enabled
      ? 'off'
      : state.blocked && !state.blocked.discarded
        ? 'blocked'
        : !state.position
          ? state.error
            ? 'failing'
            : 'starting'
          : state.error
            ? 'failing'
            : 'following',
    ...(state.blocked && !state.blocked.discarded ? { blockedJobId: state.blocked.jobId } : {}),
    intervalSeconds: intervalMs / 1000,
    ...(state.position ? { watermark: state.position.watermark } : {}),
    ...(state.lastPollAt ? { lastPollAt: iso(state.lastPollAt) } : {}),
    ...(state.lastChangeAppliedAt ? { lastChangeAppliedAt: iso(state.lastChangeAppliedAt) } : {}),
    ...(state.lastSuccessAt
      ? { lagSeconds: Math.max(0, Math.round((now - state.lastSuccessAt.getTime()) / 100) / 10) }
      : {}),
    changesApplied: state.changesApplied,
    ...(state.reconcile?.completedAt ? { lastReconciledAt: iso(state.reconcile.completedAt) } : {}),
    ...(state.consumer ? { consumer: state.consumer } : {}),
    ...(state.error ? { error: { code: state.error.code, message: state.error.message } } : {}),
  };
}
