import type { FeedPosition } from './feed-position';

/** The feed's one state document: where it stands and what it has done, for the status route. */
export interface FeedState {
  /** Undefined until the first poll has found where the directory stands. */
  position?: FeedPosition;
  lastPollAt?: Date;
  /** When the last poll that read the directory to its end (and applied what it found) began. */
  lastSuccessAt?: Date;
  lastChangeAppliedAt?: Date;
  changesApplied: number;
  /** The last poll's error, until a poll succeeds. */
  error?: { code: string; message: string };
}

/** Where the feed keeps its state (MongoDB adapter: mongo/mongo-feed-store.ts). */
export interface FeedStore {
  state(): Promise<FeedState>;
  /** Records changes applied and the position after them (the watermark moves only here). */
  advance(position: FeedPosition, applied: number, at: Date): Promise<void>;
  /** Starts over from `position` (first poll, or after the directory went back in time). */
  restart(position: FeedPosition | undefined): Promise<void>;
  /** Records a poll's end: success (no error) or the error it ended on. */
  polled(startedAt: Date, error?: { code: string; message: string }): Promise<void>;
  /**
   * The active users whose stored ABAC values include `value` (a group's DN reached them through memberOf):
   * the members a group change may have removed, compared ignoring case.
   */
  usersHoldingValue(value: string): Promise<string[]>;
}
