import {
  applyQuestion,
  counted,
  listLabel,
  pageText,
  planFilterQuery,
  statusLabel,
  summaryFigures,
} from '../../admin/words';

describe('the admin page’s words', () => {
  it('puts a noun in the plural unless the count is one, with thousands grouped', () => {
    expect(counted(1, 'room membership')).toBe('1 room membership');
    expect(counted(0, 'user')).toBe('0 users');
    expect(counted(3004, 'user')).toBe('3,004 users');
    expect(counted(2, 'person', 'people')).toBe('2 people');
  });

  it('names where a page sits in the list, and says when nothing matches', () => {
    expect(pageText(0, 50, 3004, 50)).toBe('1–50 of 3,004 · page 1 of 61');
    expect(pageText(50, 50, 3004, 50)).toBe('51–100 of 3,004 · page 2 of 61');
    expect(pageText(3000, 4, 3004, 50)).toBe('3,001–3,004 of 3,004 · page 61 of 61');
    expect(pageText(0, 1, 1, 50)).toBe('1–1 of 1 · page 1 of 1');
    expect(pageText(0, 0, 0, 50)).toBe('Nothing matches');
  });

  it('says a status in words, and leaves a status it does not know as it came', () => {
    expect(statusLabel('notFoundInLdap')).toBe('not in the directory');
    expect(statusLabel('cleared')).toBe('all values removed');
    expect(statusLabel('somethingNew')).toBe('somethingNew');
  });

  it('labels a summary in words, in a fixed order, singular for one', () => {
    expect(summaryFigures({ roomsRevoked: 1, updated: 2, requested: 4, extra: 3 })).toEqual([
      { key: 'requested', count: '4', label: 'named' },
      { key: 'updated', count: '2', label: 'values changed' },
      { key: 'roomsRevoked', count: '1', label: 'room membership ended' },
      { key: 'extra', count: '3', label: 'extra' },
    ]);
    expect(summaryFigures({ roomsRevoked: 1200 })[0]).toMatchObject({
      count: '1,200',
      label: 'room memberships ended',
    });
  });

  it('maps the plan filters to the route’s query: "loses a room" whatever the status', () => {
    expect(planFilterQuery('losesRooms')).toEqual({ losesRooms: 'true' });
    expect(planFilterQuery('cleared')).toEqual({ status: 'cleared' });
    expect(planFilterQuery('')).toEqual({});
    expect(planFilterQuery('bogus')).toEqual({});
  });
});

describe('the named users’ apply confirmation', () => {
  it('says what the preview would do, in the singular for one, and whether it takes anything away', () => {
    expect(
      applyQuestion({
        summary: { updated: 2, cleared: 1, roomsRevoked: 1 },
        users: [
          { status: 'updated', removed: [{}] },
          { status: 'updated' },
          { status: 'cleared' },
          { status: 'unchanged' },
        ],
      }),
    ).toEqual({
      text: 'Apply the previewed sync of 4 users: 3 users change, 2 users lose values and 1 room membership ends?',
      takesAway: true,
    });
    expect(applyQuestion({ summary: { updated: 1 }, users: [{ status: 'updated', removed: [] }] })).toEqual({
      text: 'Apply the previewed sync of 1 user: 1 user changes, 0 users lose values and 0 room memberships end?',
      takesAway: false,
    });
  });

  it('names identifier lists in the singular, for the users nobody matched', () => {
    expect(['usernames', 'emails', 'ids', 'ldapIds', 'other'].map(listLabel)).toEqual([
      'username',
      'email',
      'user id',
      'LDAP id',
      'other',
    ]);
  });
});
