import { undoChangeOf, type UndoSubject } from '../../lib/undo/undo-plan';
import type { RoomNow, UndoJournalEntry } from '../../lib/undo/undo-store';

const ENG = { key: 'department', values: ['eng'] };
const PLATFORM = { key: 'department', values: ['eng', 'eng-platform'] };
const AT = new Date('2026-12-01T10:00:00Z');
const subscription = { _id: 's-bob', rid: 'r-platform', u: { _id: 'u-bob' }, unread: 2 };
const platform: RoomNow = {
  _id: 'r-platform',
  name: 'platform',
  abacAttributes: [{ key: 'department', values: ['eng-platform'] }],
};
const plain: RoomNow = { _id: 'r-plain', name: 'plain', abacAttributes: [] };

const entry = { changeSet: 'req', userId: 'u-bob', username: 'bob', at: AT };
const changed: UndoJournalEntry = {
  ...entry,
  _id: 'e1',
  kind: 'attributes',
  before: [PLATFORM],
  after: [ENG],
};
const ended: UndoJournalEntry = {
  ...entry,
  _id: 'e2',
  kind: 'membershipEnded',
  room: { _id: 'r-platform', name: 'platform' },
  subscription,
};

function bob(overrides: Partial<UndoSubject> = {}): UndoSubject {
  return {
    userId: 'u-bob',
    username: 'bob',
    entries: [changed, ended],
    current: {
      _id: 'u-bob',
      attributes: [ENG],
      rooms: ['r-plain'],
      roomsAsStored: ['r-plain'],
      outbox: undefined,
    },
    changedLater: false,
    ...overrides,
  };
}
const rooms = (...list: RoomNow[]) => new Map(list.map((room) => [room._id, room]));

describe('the undo of one user (pure)', () => {
  it('gives back the values held before and the membership ended, with its subscription as it was', () => {
    expect(undoChangeOf('job', bob(), rooms(platform, plain))).toEqual({
      jobId: 'job',
      userId: 'u-bob',
      username: 'bob',
      status: 'updated',
      before: [ENG],
      next: [PLATFORM],
      added: [{ key: 'department', values: ['eng-platform'] }],
      removed: [],
      roomsRevoked: [],
      restore: [{ room: { _id: 'r-platform', name: 'platform' }, subscription }],
    });
  });

  it('lists the memberships it cannot give back: the room gone, or no longer admitting the restored values', () => {
    expect(undoChangeOf('job', bob(), rooms(plain)).roomsNotRestored).toEqual([
      { _id: 'r-platform', name: 'platform', reason: 'room-gone' },
    ]);
    const stricter = { ...platform, abacAttributes: [{ key: 'department', values: ['eng-infra'] }] };
    const change = undoChangeOf('job', bob(), rooms(stricter, plain));
    expect(change.roomsNotRestored).toEqual([
      { _id: 'r-platform', name: 'platform', reason: 'not-satisfied' },
    ]);
    expect(change.restore).toBeUndefined();
  });

  it('says which rooms the user is in that the restored values would not admit', () => {
    const engOnly: RoomNow = {
      _id: 'r-eng-only',
      name: 'eng-only',
      abacAttributes: [{ key: 'team', values: ['x'] }],
    };
    const user = bob({ current: { ...bob().current!, rooms: ['r-plain', 'r-eng-only'] } });
    expect(undoChangeOf('job', user, rooms(platform, plain, engOnly)).roomsRevoked).toEqual([
      { _id: 'r-eng-only', name: 'eng-only' },
    ]);
  });

  it.each([
    ['their values changed since', { current: { ...bob().current!, attributes: [PLATFORM] } }],
    ['they are in the ended room again', { current: { ...bob().current!, rooms: ['r-platform'] } }],
    ['a later change set changed them', { changedLater: true }],
    ['they are gone', { current: undefined }],
  ])('leaves a user alone, marked stale, when %s', (_why, overrides) => {
    const change = undoChangeOf('job', bob(overrides), rooms(platform, plain));
    expect(change).toMatchObject({ status: 'unchanged', stale: true, roomsRevoked: [] });
    expect(change.next).toEqual(change.before);
    expect(change.restore).toBeUndefined();
  });

  it('takes a membership-only change set back without touching the values', () => {
    const change = undoChangeOf('job', bob({ entries: [ended] }), rooms(platform, plain));
    expect(change).toMatchObject({ status: 'unchanged', next: [ENG] });
    // The values the user holds do not admit platform: nothing to give back.
    expect(change.roomsNotRestored).toEqual([
      { _id: 'r-platform', name: 'platform', reason: 'not-satisfied' },
    ]);
  });
});
