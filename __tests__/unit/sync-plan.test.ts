import { parseAttributeMap } from '../../lib/sync/attribute-mapping';
import type { EntryMatch } from '../../lib/sync/entry-lookup';
import { MappingMatchesNothingError } from '../../lib/errors';
import type { DirectoryEntry } from '../../lib/ldap/directory';
import {
  isStale,
  needsClaim,
  planUser,
  refuseMappingThatMatchesNothing,
  report,
  roomsToLeave,
  type KnownRooms,
  resolveMatch,
} from '../../lib/sync/sync-plan';
import { ldapSubject } from '../helpers/subjects';

const mapping = parseAttributeMap({ departmentNumber: 'department' });

const subject = ldapSubject;

function found(attributes: Record<string, string[]>, dn = 'uid=x,dc=example,dc=org'): EntryMatch {
  const entry: DirectoryEntry = { dn, attributes: new Map() };
  for (const [name, values] of Object.entries(attributes))
    entry.attributes.set(name.toLowerCase(), { values, buffers: values.map((value) => Buffer.from(value)) });
  return { kind: 'found', entry };
}

const rooms: KnownRooms = new Map([
  ['r-eng', { _id: 'r-eng', name: 'eng', abacAttributes: [{ key: 'department', values: ['eng'] }] }],
  ['r-sales', { _id: 'r-sales', name: 'sales', abacAttributes: [{ key: 'department', values: ['sales'] }] }],
  ['r-plain', null],
]);

describe('planUser', () => {
  it('plans the mapped attributes and the diff against the stored ones', () => {
    const plan = planUser(
      subject({ storedAttributes: [{ key: 'department', values: ['sales'] }] }),
      found({ departmentNumber: ['eng'] }),
      mapping,
    );
    expect(plan.next).toEqual([{ key: 'department', values: ['eng'] }]);
    expect(plan.result).toEqual({
      _id: 'u1',
      username: 'alice',
      status: 'updated',
      added: [{ key: 'department', values: ['eng'] }],
      removed: [{ key: 'department', values: ['sales'] }],
    });
  });

  it('refuses users that are not from the directory and entries shared or ambiguous, reading nothing', () => {
    const local = planUser(subject({ fromLdap: false }), found({ departmentNumber: ['eng'] }), mapping);
    expect(local.result).toEqual({
      _id: 'u1',
      username: 'alice',
      status: 'failed',
      error: 'error-user-not-ldap',
    });
    expect(local.next).toBeUndefined();
    expect(planUser(subject(), { kind: 'shared' }, mapping).result.error).toBe('error-ldap-entry-shared');
    expect(planUser(subject(), { kind: 'ambiguous' }, mapping).result.error).toBe(
      'error-ldap-ambiguous-entry',
    );
    expect(planUser(subject(), { kind: 'notFound' }, mapping).result.status).toBe('notFoundInLdap');
  });
});

describe('roomsToLeave', () => {
  const eng = [{ key: 'department', values: ['eng'] }];

  it('lists the ABAC rooms the attributes do not satisfy, whether or not the attributes change', () => {
    expect(roomsToLeave(['r-eng', 'r-sales', 'r-plain', 'r-unknown'], eng, rooms, undefined)).toEqual([
      rooms.get('r-sales'),
    ]);
  });

  it('lists a room whose removal was begun (its revocation waits in the outbox) even if the user qualifies', () => {
    const outbox = {
      e1: {
        _id: 'e1',
        t: 'abac.action.performed',
        ts: new Date(),
        actor: { type: 'user' as const },
        data: [{ key: 'object', value: { _id: 'r-eng', name: 'eng' } }],
      },
    };
    expect(roomsToLeave(['r-eng'], eng, rooms, outbox)).toEqual([rooms.get('r-eng')]);
  });

  it('does not take a room whose restore waits in the outbox (an undo giving it back) for one being left', () => {
    const granted = {
      _id: 'g1',
      t: 'abac.action.performed',
      ts: new Date(),
      actor: { type: 'user' as const },
      data: [
        { key: 'action', value: 'granted-object-access' },
        { key: 'object', value: { _id: 'r-eng', name: 'eng' } },
      ],
    };
    expect(roomsToLeave(['r-eng'], eng, rooms, { g1: granted })).toEqual([]);
  });
});

describe('needsClaim', () => {
  it('claims only users with a change, a room to leave or audit events to copy', () => {
    const eng = [{ key: 'department', values: ['eng'] }];
    const unchanged = planUser(
      subject({ storedAttributes: eng, rooms: ['r-eng'] }),
      found({ departmentNumber: ['eng'] }),
      mapping,
    );
    expect(needsClaim(unchanged, rooms)).toBe(false);
    const inWrongRoom = planUser(
      subject({ storedAttributes: eng, rooms: ['r-sales'] }),
      found({ departmentNumber: ['eng'] }),
      mapping,
    );
    expect(needsClaim(inWrongRoom, rooms)).toBe(true);
    expect(needsClaim(planUser(subject(), { kind: 'notFound' }, mapping), rooms)).toBe(false);
  });
});

describe('refuseMappingThatMatchesNothing', () => {
  const holding = (id: string) =>
    subject({ _id: id, storedAttributes: [{ key: 'department', values: ['x'] }] });
  const matches = (entries: Array<[string, EntryMatch]>) =>
    new Map(entries.map(([id, match]) => [id, resolveMatch(match, mapping)]));

  it('refuses several entries without a mapped value while their users hold attributes', () => {
    expect(() =>
      refuseMappingThatMatchesNothing(
        [holding('a'), holding('b')],
        matches([
          ['a', found({ cn: ['A'] }, 'uid=a')],
          ['b', found({ cn: ['B'] }, 'uid=b')],
        ]),
        mapping,
      ),
    ).toThrow(MappingMatchesNothingError);
  });

  it.each([
    ['a single entry', [holding('a')], [['a', found({ cn: ['A'] })]]],
    [
      'one entry with a mapped value',
      [holding('a'), holding('b')],
      [
        ['a', found({ departmentNumber: ['eng'] })],
        ['b', found({ cn: ['B'] })],
      ],
    ],
    [
      'users holding nothing',
      [subject({ _id: 'a' }), subject({ _id: 'b' })],
      [
        ['a', found({ cn: ['A'] })],
        ['b', found({ cn: ['B'] })],
      ],
    ],
  ] as const)('lets %s through', (_name, subjects, entries) => {
    expect(() =>
      refuseMappingThatMatchesNothing(
        [...subjects],
        matches(entries as unknown as Array<[string, EntryMatch]>),
        mapping,
      ),
    ).not.toThrow();
  });
});

describe('isStale', () => {
  const dept = (...values: string[]) => [{ key: 'department', values }];
  const reviewed = {
    subject: subject(),
    result: { _id: 'u1', username: 'alice', status: 'updated' as const },
  };

  it('holds for a reviewed plan when the stored value is neither the reviewed one nor the planned one', () => {
    const plan = { ...reviewed, reviewedBefore: dept('a'), next: dept('b') };
    expect(isStale(plan, dept('c'))).toBe(true);
    expect(isStale(plan, [])).toBe(true);
    expect(isStale(plan, dept('a'))).toBe(false);
    // Values in another order are the same value.
    expect(isStale({ ...plan, reviewedBefore: dept('x', 'y') }, dept('y', 'x'))).toBe(false);
    expect(isStale(plan, dept('b'))).toBe(false);
  });

  it('never holds for a plan nobody reviewed (a run applies what it just planned)', () => {
    expect(isStale({ ...reviewed, next: dept('b') }, dept('c'))).toBe(false);
  });

  it('treats a reviewed plan that clears as leading to no value', () => {
    const plan = { ...reviewed, reviewedBefore: dept('a'), next: [] };
    expect(isStale(plan, [])).toBe(false);
    expect(isStale(plan, dept('z'))).toBe(true);
  });
});

describe('report', () => {
  const request = {
    identifiers: { usernames: ['zoe', 'Anna', 'bob'] },
    dryRun: true,
    actor: { type: 'user' as const, _id: 'admin', username: 'admin' },
    requestId: 'r1',
  };
  const result = (_id: string, username: string) => ({ _id, username, status: 'unchanged' as const });

  it('lists the users in username order (code unit order, ties by id), whatever order they were read in, so a preview and its apply read alike', () => {
    const users = report(
      request,
      [result('u3', 'zoe'), result('u2', 'bob'), result('u9', 'Anna'), result('u1', 'bob')],
      { usernames: [], ids: [], emails: [], ldapIds: [] },
    ).users;
    expect(users.map((user) => `${user.username}/${user._id}`)).toEqual([
      'Anna/u9',
      'bob/u1',
      'bob/u2',
      'zoe/u3',
    ]);
  });
});
