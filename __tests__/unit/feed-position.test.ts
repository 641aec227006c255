import {
  isRepeat,
  compareTimes,
  isCsn,
  newChanges,
  positionAfter,
  timeBefore,
  timeKey,
  type ChangedEntry,
} from '../../lib/feed/feed-position';

// The changed-entries feed's pure steps: time order, which entries are new, where the feed stands.

const change = (id: string, changedAt: string, stamp = changedAt): ChangedEntry => ({
  id,
  dn: `uid=${id},ou=people,dc=example,dc=org`,
  changedAt,
  stamp,
});

describe('generalized times', () => {
  it('sort by time whatever the format: fractions, time zones, minutes only', () => {
    expect(timeKey('20261202193012Z')).toBe('20261202193012.000000000');
    expect(timeKey('20261202193012.5Z')).toBe('20261202193012.500000000');
    expect(timeKey('20261202203012+0100')).toBe('20261202193012.000000000');
    expect(timeKey('202612021930Z')).toBe('20261202193000.000000000');
    expect(timeKey('not a time')).toBeUndefined();
    expect(compareTimes('20261202193012Z', '20261202193012.0Z')).toBe(0);
    expect(compareTimes('20261202193012Z', '20261202193013Z')).toBe(-1);
    expect(compareTimes('20261202193013Z', '20261202193012.999Z')).toBe(1);
    expect(compareTimes('20261202203012+0100', '20261202193011Z')).toBe(1);
  });

  it('orders entryCSNs by time to the microsecond, then by count', () => {
    const csn = (time: string, count = '000000') => `${time}Z#${count}#000#000000`;
    expect(isCsn(csn('20261202193012.270499'))).toBe(true);
    expect(isCsn('20261202193012Z')).toBe(false);
    expect(compareTimes(csn('20261202193012.270403'), csn('20261202193012.270499'))).toBe(-1);
    expect(compareTimes(csn('20261202193012.270499', '000001'), csn('20261202193012.270499'))).toBe(1);
    expect(compareTimes(csn('20261202193012.270499'), csn('20261202193012.270499'))).toBe(0);
  });
});

describe('newChanges', () => {
  it('takes everything, oldest first, when the feed has no position', () => {
    const read = [
      change('b', '20261202193013Z'),
      change('a', '20261202193012Z'),
      change('c', '20261202193012Z'),
    ];
    expect(newChanges(read, undefined).map(({ id }) => id)).toEqual(['a', 'c', 'b']);
  });

  it('skips the changes applied at the watermark, and keeps a second change of one entry in that second', () => {
    const csn = (n: number) => `20261202193012.00000${n}Z#000000#000#000000`;
    const position = { watermark: '20261202193012Z', appliedAtWatermark: [`a@${csn(1)}`, `c@${csn(3)}`] };
    const read = [
      change('a', '20261202193012Z', csn(1)),
      // Changed again in the same second: a new stamp.
      change('c', '20261202193012Z', csn(4)),
      change('d', '20261202193012Z', csn(5)),
      change('e', '20261202193014Z', csn(6)),
      change('old', '20261202193011Z', csn(0)),
    ];
    expect(newChanges(read, position).map(({ id }) => id)).toEqual(['c', 'd', 'e']);
  });

  it('reads again an entry applied at the watermark when only its time tells changes apart (no entryCSN)', () => {
    // 389-DS or Active Directory: whole seconds, no entryCSN. A second change of `a` in the watermark's
    // second looks exactly like the first: the entry is synced again (idempotent), not skipped.
    const position = { watermark: '20261202193012Z', appliedAtWatermark: ['a@20261202193012Z'] };
    const read = [change('a', '20261202193012Z', '20261202193012Z')];
    expect(newChanges(read, position).map(({ id }) => id)).toEqual(['a']);
    // …and it is not counted as a new change.
    expect(read.filter((entry) => !isRepeat(entry, position))).toEqual([]);
  });

  it('counts an entry read twice (in the users and in the groups) once', () => {
    const read = [change('a', '20261202193012Z', 'x'), change('a', '20261202193012Z', 'x')];
    expect(newChanges(read, undefined)).toHaveLength(1);
  });
});

describe('positionAfter', () => {
  it('moves to the newest time applied and remembers every change at it', () => {
    const applied = [
      change('a', '20261202193012Z', 'x'),
      change('b', '20261202193013Z', 'y'),
      change('c', '20261202193013Z', 'z'),
    ];
    expect(positionAfter(applied, undefined)).toEqual({
      watermark: '20261202193013Z',
      appliedAtWatermark: ['b@y', 'c@z'],
    });
  });

  it('adds to the changes of the same second, and forgets them once time moves on', () => {
    const previous = { watermark: '20261202193013Z', appliedAtWatermark: ['b@y'] };
    expect(positionAfter([change('c', '20261202193013Z', 'z')], previous)).toEqual({
      watermark: '20261202193013Z',
      appliedAtWatermark: ['b@y', 'c@z'],
    });
    expect(positionAfter([change('d', '20261202193014Z', 'w')], previous)).toEqual({
      watermark: '20261202193014Z',
      appliedAtWatermark: ['d@w'],
    });
    expect(positionAfter([], previous)).toEqual(previous);
    expect(positionAfter([], undefined)).toBeUndefined();
  });

  it('applied in batches, ends where applying everything at once ends, and a re-read skips all of it', () => {
    const csn = (second: number, n: number) => `202612021930${second}.00000${n}Z#000000#000#000000`;
    const read = [
      change('a', '20261202193012Z', csn(12, 1)),
      change('b', '20261202193013Z', csn(13, 2)),
      change('c', '20261202193013Z', csn(13, 3)),
      change('d', '20261202193013Z', csn(13, 4)),
    ];
    const fresh = newChanges(read, undefined);
    let position = undefined;
    for (let start = 0; start < fresh.length; start += 2)
      position = positionAfter(fresh.slice(start, start + 2), position);
    expect(position).toEqual(positionAfter(fresh, undefined));
    expect(newChanges(read, position)).toEqual([]);
  });
});

describe('the overlap behind the watermark', () => {
  const overlap = { seconds: 300, maxKeys: 100 };
  const csn = (time: string, n = 0) => `${time}.00000${n}Z#000000#002#000000`;

  it('reads again the overlap, and applies once a change that reached the server after newer ones', () => {
    // As from another provider: its change carries the time it was made, before the watermark.
    let position = positionAfter([change('a', csn('20261202120000', 1))], undefined, overlap);
    expect(position!.readFrom).toBe('20261202115500.000001Z#000000#000#000000');
    position = positionAfter([change('b', csn('20261202120100', 2))], position, overlap);
    expect(position).toEqual({
      watermark: csn('20261202120100', 2),
      appliedAtWatermark: [`b@${csn('20261202120100', 2)}`],
      readFrom: '20261202115600.000002Z#000000#000#000000',
      appliedBehind: [{ at: csn('20261202120000', 1), keys: [`a@${csn('20261202120000', 1)}`] }],
    });
    const read = [
      change('a', csn('20261202120000', 1)),
      change('b', csn('20261202120100', 2)),
      change('late', csn('20261202115830', 3)),
    ];
    expect(newChanges(read, position).map(({ id }) => id)).toEqual(['late']);
    const after = positionAfter(newChanges(read, position), position, overlap);
    expect(after!.watermark).toBe(position!.watermark);
    expect(newChanges(read, after)).toEqual([]);
  });

  it('forgets what falls out of the overlap, and never reads before where it started', () => {
    const started = positionAfter([change('a', '20261202120000Z')], undefined);
    expect(started).toEqual({ watermark: '20261202120000Z', appliedAtWatermark: ['a@20261202120000Z'] });
    const next = positionAfter([change('b', '20261202120200Z')], started, overlap);
    // Five minutes before 12:02 is before the start: the start bounds it.
    expect(next!.readFrom).toBe('20261202120000Z');
    const later = positionAfter([change('c', '20261202121000Z')], next, overlap);
    expect(later).toEqual({
      watermark: '20261202121000Z',
      appliedAtWatermark: ['c@20261202121000Z'],
      readFrom: '20261202120500Z',
      // a (12:00) and b (12:02) are behind the overlap now.
    });
    expect(newChanges([change('b', '20261202120200Z')], later)).toEqual([]);
  });

  it('keeps at most maxKeys behind the watermark, moving readFrom up to the oldest time it kept', () => {
    const small = { seconds: 300, maxKeys: 2 };
    let position = positionAfter([change('a', '20261202120000Z')], undefined, small);
    position = positionAfter(
      [change('b', '20261202120001Z'), change('c', '20261202120002Z'), change('d', '20261202120003Z')],
      position,
      small,
    );
    expect(position).toEqual({
      watermark: '20261202120003Z',
      appliedAtWatermark: ['d@20261202120003Z'],
      readFrom: '20261202120001Z',
      appliedBehind: [
        { at: '20261202120001Z', keys: ['b@20261202120001Z'] },
        { at: '20261202120002Z', keys: ['c@20261202120002Z'] },
      ],
    });
  });

  it('goes back in the change time’s own format, whole seconds for generalized times', () => {
    expect(timeBefore('20261202120000.5Z', 60)).toBe('20261202115900Z');
    expect(timeBefore('20261202010000+0100', 3600)).toBe('20261201230000Z');
    expect(timeBefore(csn('20261202000000', 7), 1)).toBe('20261201235959.000007Z#000000#000#000000');
    expect(timeBefore('garbage', 1)).toBeUndefined();
    expect(compareTimes(csn('20261202000000', 7), '20261202000000Z')).toBe(1);
  });
});
