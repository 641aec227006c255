import { nextRangeRequest, parseRange } from '../../lib/ldap/ranged-attributes';

describe('ranged attribute descriptions', () => {
  it.each([
    ['memberOf;range=0-1499', { name: 'memberof', start: 0, end: 1499 }],
    ['member;range=1500-*', { name: 'member', start: 1500, end: '*' }],
    ['member;binary;range=0-9', { name: 'member;binary', start: 0, end: 9 }],
    ['MEMBER;Range=10-19', { name: 'member', start: 10, end: 19 }],
  ])('parses %s', (description, range) => {
    expect(parseRange(description)).toEqual(range);
  });

  it.each([['memberOf'], ['member;rangefoo=0-1'], ['objectGUID;binary']])(
    'finds no range in %s',
    (description) => {
      expect(parseRange(description)).toBeUndefined();
    },
  );

  it('asks for the values after a range, and for nothing after the last one', () => {
    expect(nextRangeRequest({ name: 'memberof', start: 0, end: 1499 })).toBe('memberof;range=1500-*');
    expect(nextRangeRequest({ name: 'memberof', start: 1500, end: '*' })).toBeUndefined();
  });
});
