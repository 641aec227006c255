import type { Models } from '../models';
import { FEED_STATE_ID, type FeedStateDocument } from '../models/feed-state';
import type { FeedPosition } from '../lib/feed/feed-position';
import type { FeedState, FeedStore } from '../lib/feed/feed-store';

/** The feed's state in abac_sync_feed (one document). */
export class MongoFeedStore implements FeedStore {
  constructor(private readonly models: Pick<Models, 'feedState' | 'users'>) {}

  async state(): Promise<FeedState> {
    const document = await this.models.feedState.findById(FEED_STATE_ID).lean<FeedStateDocument>().exec();
    if (!document) return { changesApplied: 0 };
    const { _id: _ignored, ...state } = document;
    return { ...state, changesApplied: state.changesApplied ?? 0 };
  }

  async advance(position: FeedPosition, applied: number, at: Date): Promise<void> {
    await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID },
      {
        $set: { position, ...(applied > 0 ? { lastChangeAppliedAt: at } : {}) },
        $inc: { changesApplied: applied },
      },
      { upsert: true },
    );
  }

  async restart(position: FeedPosition | undefined): Promise<void> {
    await this.models.feedState.updateOne(
      { _id: FEED_STATE_ID },
      position ? { $set: { position } } : { $unset: { position: 1 } },
      { upsert: true },
    );
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

  async usersHoldingValue(value: string): Promise<string[]> {
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const users = await this.models.users
      .find(
        { abacAttributes: { $elemMatch: { values: new RegExp(`^${escaped}$`, 'i') } }, active: true },
        { _id: 1 },
      )
      .lean<{ _id: string }[]>()
      .exec();
    return users.map(({ _id }) => _id);
  }
}
