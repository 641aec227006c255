import type { FeedPosition } from './feed-position';
import type { HeldValues, ReconcileProgress } from './held-groups';

/** The feed's one state document: where it stands and what it has done, for the status route. */
export interface FeedState {
  /** Undefined until the first poll has found where the directory stands. */
  position?: FeedPosition;
  lastPollAt?: Date;
  /** When the last poll that read the directory to its end (and applied what it found) began. */
  lastSuccessAt?: Date;
  lastChangeAppliedAt?: Date;
  changesApplied: number;
  /** host:pid of the process holding the feed (the one consumer). */
  consumer?: string;
  /** The holding consumer's token: only it may poll (fencing), until its heartbeat goes stale. */
  consumerToken?: string;
  consumerHeartbeatAt?: Date;
  /**
   * Set while the guard holds the feed: the blocked run (`trigger: feed`) that keeps the stopped batch's
   * plan, and the position after that batch. The feed resumes from there once the plan was applied (POST
   * …/jobs/:jobId/apply) or discarded.
   */
  blocked?: { jobId: string; position: FeedPosition; discarded?: boolean };
  /** The last poll's error, until a poll succeeds. */
  error?: { code: string; message: string };
  /** How far the reconciliation of held group DNs has gone (see held-groups.ts). */
  reconcile?: ReconcileProgress;
}

/** Where the feed keeps its state (MongoDB adapter: mongo/mongo-feed-store.ts). */
export interface FeedStore {
  state(): Promise<FeedState>;
  /**
   * Records changes applied and the position after them (the watermark moves only here), and renews the
   * hold of consumer `token`. False: another consumer holds the feed now, and nothing was recorded.
   */
  advance(token: string, position: FeedPosition, applied: number, at: Date): Promise<boolean>;
  /** The guard stopped a batch: the feed waits for `blocked` to be applied or discarded (fenced as above). */
  block(token: string, blocked: { jobId: string; position: FeedPosition }, at: Date): Promise<boolean>;
  /** The blocked batch was applied (`applied` changes) or discarded: the feed moves past it (fenced). */
  unblock(token: string, applied: number, at: Date): Promise<boolean>;
  /** An admin discards the blocked batch; false when the feed is not blocked. */
  discard(): Promise<boolean>;
  /** Starts over from `position` (first poll, or after the directory went back in time); false as above. */
  restart(token: string, position: FeedPosition | undefined, at: Date): Promise<boolean>;
  /** Records a poll's end: success (no error) or the error it ended on. */
  polled(startedAt: Date, error?: { code: string; message: string }): Promise<void>;
  /**
   * Makes `consumer` the one consumer, or renews its hold: true when the feed was free, already its own, or
   * held by a consumer whose heartbeat is older than `staleBefore` (a dead process).
   */
  hold(consumer: { token: string; name: string }, at: Date, staleBefore: Date): Promise<boolean>;
  /** Gives the feed up (a process stopping): another consumer may take it at once. */
  letGo(token: string): Promise<void>;
  /** Records how far the reconciliation of held group DNs has gone (fenced as advance). */
  reconciled(token: string, progress: ReconcileProgress, at: Date): Promise<boolean>;
  /**
   * Up to `limit` active users after `after` in `_id` order that hold a value under one of `keys`, with
   * those values.
   */
  holdersOf(keys: readonly string[], after: string | undefined, limit: number): Promise<HeldValues[]>;
  /**
   * The active users whose stored ABAC values include `value` (a group's DN reached them through memberOf):
   * the members a group change may have removed. Found as spelled and in lower case.
   */
  usersHoldingValue(value: string): Promise<string[]>;
}
