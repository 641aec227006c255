import type { Logger } from './logger';

/** At most this many pieces of deferred work at once; more waits for a slot (the caller is slowed). */
export const DEFAULT_DEFERRED_LIMIT = 8;

/**
 * Work that completes after the answer it belongs to was sent: each piece is tracked until it settles, its
 * failure is logged (never thrown into nowhere), and `settled()` waits for all of it (a host's shutdown, a
 * test reading the database). Only work whose loss a later run repairs belongs here: a process that dies
 * first leaves it undone.
 */
export class DeferredWork {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly limit = DEFAULT_DEFERRED_LIMIT,
  ) {}

  /**
   * Starts `work` once `after` settles (at once without it) and resolves once it is tracked: at once, or
   * when a slot frees up while `limit` pieces are still running. `what` and `fields` describe it in the log
   * line of a failure.
   */
  async defer(
    what: string,
    fields: object,
    work: () => Promise<unknown>,
    after?: Promise<unknown>,
  ): Promise<void> {
    while (this.pending.size >= this.limit) await Promise.race(this.pending);
    const tracked: Promise<void> = Promise.resolve(after)
      .catch(() => undefined)
      .then(work)
      .then(
        () => undefined,
        (error: unknown) => {
          this.logger.warn(
            { ...fields, err: error instanceof Error ? error.message : String(error) },
            `${what} failed; a later sync completes it`,
          );
        },
      )
      .then(() => {
        this.pending.delete(tracked);
      });
    this.pending.add(tracked);
  }

  /** How many pieces are running now. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves when no work is running, including work deferred while waiting. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}
