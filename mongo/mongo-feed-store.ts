import type { Models } from '../models';
import { FEED_STATE_ID, type FeedStateDocument } from '../models/feed-state';
import type { FeedPosition } from '../lib/feed/feed-position';
import type { FeedState, FeedStore } from '../lib/feed/feed-store';
import type { HeldValues, ReconcileProgress } from '../lib/feed/held-groups';
import type { AbacAttribute } from '../models/user';
import { DUPLICATE_KEY } from './write-errors';

/** The feed's state in abac_sync_feed (one document). */
export class MongoFeedStore implements FeedStore {
  constructor(private readonly models: Pick<Models, 'feedState' | 'users'>) {}

  async state(): Promise<FeedState> {
    const document = await this.models.feedState.findById(FEED_STATE_ID).lean<FeedStateDocument>().exec();
    if (!document) return { changesApplied: 0 };
    const { _id: _ignored, ...state } = document;
    return { ...state, changesApplied: state.changesApplied ?? 0 };
  }

  async advance(token: string, position: FeedPosition, applied: number, at: Date): Promise<boolean> {
    const advanced = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token },
      {
        $set: { position, consumerHeartbeatAt: at, ...(applied > 0 ? { lastChangeAppliedAt: at } : {}) },
        $inc: { changesApplied: applied },
      },
    );
    return advanced.matchedCount === 1;
  }

  async restart(token: string, position: FeedPosition | undefined, at: Date): Promise<boolean> {
    const restarted = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token },
      position
        ? { $set: { position, consumerHeartbeatAt: at } }
        : { $set: { consumerHeartbeatAt: at }, $unset: { position: 1 } },
    );
    return restarted.matchedCount === 1;
  }

  async block(token: string, blocked: { jobId: string; position: FeedPosition }, at: Date): Promise<boolean> {
    const updated = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token },
      { $set: { blocked, consumerHeartbeatAt: at } },
    );
    return updated.matchedCount === 1;
  }

  async unblock(token: string, applied: number, at: Date): Promise<boolean> {
    const state = await this.state();
    if (!state.blocked) return true;
    const updated = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token, 'blocked.jobId': state.blocked.jobId },
      {
        $set: {
          position: state.blocked.position,
          consumerHeartbeatAt: at,
          ...(applied > 0 ? { lastChangeAppliedAt: at } : {}),
        },
        $unset: { blocked: 1 },
        $inc: { changesApplied: applied },
      },
    );
    return updated.matchedCount === 1;
  }

  async discard(): Promise<boolean> {
    const updated = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, blocked: { $exists: true } },
      { $set: { 'blocked.discarded': true } },
    );
    return updated.matchedCount === 1;
  }

  async polled(startedAt: Date, error?: { code: string; message: string }): Promise<void> {
    await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID },
      error
        ? { $set: { lastPollAt: startedAt, error } }
        : { $set: { lastPollAt: startedAt, lastSuccessAt: startedAt }, $unset: { error: 1 } },
      { upsert: true },
    );
  }

  async hold(consumer: { token: string; name: string }, at: Date, staleBefore: Date): Promise<boolean> {
    try {
      const held = await this.models.feedState.updateOne(
        {
          _id: FEED_STATE_ID,
          $or: [
            { consumerToken: { $exists: false } },
            { consumerToken: consumer.token },
            { consumerHeartbeatAt: { $lt: staleBefore } },
          ],
        },
        { $set: { consumerToken: consumer.token, consumer: consumer.name, consumerHeartbeatAt: at } },
        { upsert: true },
      );
      return held.matchedCount + held.upsertedCount === 1;
    } catch (error) {
      // The document exists and another consumer holds it: the upsert's insert met the _id.
      if ((error as { code?: number }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  async letGo(token: string): Promise<void> {
    await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token },
      { $unset: { consumerToken: 1, consumerHeartbeatAt: 1 } },
    );
  }

  async reconciled(token: string, progress: ReconcileProgress, at: Date): Promise<boolean> {
    const updated = await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID, consumerToken: token },
      { $set: { reconcile: progress, consumerHeartbeatAt: at } },
    );
    return updated.matchedCount === 1;
  }

  async holdersOf(keys: readonly string[], after: string | undefined, limit: number): Promise<HeldValues[]> {
    const users = await this.models.users
      .find(
        {
          ...(after === undefined ? {} : { _id: { $gt: after } }),
          active: true,
          'abacAttributes.key': { $in: [...keys] },
        },
        { _id: 1, abacAttributes: 1 },
      )
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: string; abacAttributes?: AbacAttribute[] }[]>()
      .exec();
    return users.map((user) => ({
      _id: user._id,
      values: (user.abacAttributes ?? [])
        .filter(({ key }) => keys.includes(key))
        .flatMap(({ values }) => values),
    }));
  }

  async usersHoldingValue(value: string): Promise<string[]> {
    // From the index on abacAttributes.values: the value as the directory spells it, and in lower case.
    // Other spellings are found by the reconciliation of held group DNs, which rewrites them.
    const users = await this.models.users
      .find(
        { 'abacAttributes.values': { $in: [...new Set([value, value.toLowerCase()])] }, active: true },
        { _id: 1 },
      )
      .lean<{ _id: string }[]>()
      .exec();
    return users.map(({ _id }) => _id);
  }
}
