import type { Models } from '../models';
import type { RoomDocument } from '../models/room';
import type { RoomNow, UndoJournalEntry, UndoStore } from '../lib/undo/undo-store';

/** The undo store on abac_sync_undo_journal, the rooms and the audit trail. */
export class MongoUndoStore implements UndoStore {
  constructor(private readonly models: Pick<Models, 'undoJournal' | 'rooms' | 'serverEvents'>) {}

  async usersOf(changeSet: string): Promise<string[]> {
    const userIds = (await this.models.undoJournal.distinct('userId', { changeSet }).exec()) as string[];
    return userIds.sort();
  }

  async entriesOf(changeSet: string, userIds: readonly string[]): Promise<UndoJournalEntry[]> {
    if (userIds.length === 0) return [];
    return this.models.undoJournal
      .find({ changeSet, userId: { $in: [...userIds] } })
      .sort({ userId: 1, _id: 1 })
      .lean<UndoJournalEntry[]>()
      .exec();
  }

  async lastChangedElsewhere(
    userIds: readonly string[],
    after: Date,
    changeSet: string,
  ): Promise<Map<string, Date>> {
    const latest = new Map<string, Date>();
    if (userIds.length === 0) return latest;
    const entries = await this.models.undoJournal
      .find(
        { userId: { $in: [...userIds] }, at: { $gt: after }, changeSet: { $ne: changeSet } },
        { userId: 1, at: 1 },
      )
      .lean<{ userId: string; at: Date }[]>()
      .exec();
    for (const { userId, at } of entries) if (!(latest.get(userId)! >= at)) latest.set(userId, at);
    return latest;
  }

  async findRooms(roomIds: readonly string[]): Promise<Map<string, RoomNow>> {
    if (roomIds.length === 0) return new Map();
    const rooms = await this.models.rooms
      .find({ _id: { $in: [...roomIds] } }, { name: 1, abacAttributes: 1 })
      .lean<RoomDocument[]>()
      .exec();
    return new Map(
      rooms.map((room) => [
        room._id,
        { _id: room._id, name: room.name ?? '', abacAttributes: room.abacAttributes ?? [] },
      ]),
    );
  }

  async wasAudited(changeSet: string): Promise<boolean> {
    // Rare (only when the journal holds nothing of it), so a scan of the trail is acceptable here.
    const found = await this.models.serverEvents
      .findOne({ data: { $elemMatch: { key: 'requestId', value: changeSet } } }, { _id: 1 })
      .lean()
      .exec();
    return found !== null;
  }

  async removeBefore(before: Date): Promise<number> {
    const { deletedCount } = await this.models.undoJournal.deleteMany({ at: { $lt: before } }).exec();
    return deletedCount;
  }
}
