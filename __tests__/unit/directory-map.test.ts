import type { DirectoryEntry } from '../../lib/ldap/directory';
import { AttributeSets } from '../../lib/sync/attribute-sets';
import { DirectoryLargerThanExpectedError, DirectoryMap } from '../../lib/sync/directory-map';
import { syncConfiguration } from '../../lib/sync/sync-configuration';
import type { SubjectIdentifiers } from '../../lib/sync/sync-store';
import { MEMORY_DIRECTORY_SETTINGS, sessionOver } from '../helpers/memory-directory';

const configuration = syncConfiguration(MEMORY_DIRECTORY_SETTINGS);

/** An entry answering to the uids given (several uids: one entry that two users name). */
function entry(dn: string, uids: string[], departments: string[], guid?: Buffer): DirectoryEntry {
  const attribute = (values: string[]) => ({ values, buffers: values.map((value) => Buffer.from(value)) });
  const attributes = new Map<string, { values: string[]; buffers: Buffer[] }>([
    ['uid', attribute(uids)],
    ['departmentnumber', attribute(departments)],
  ]);
  if (guid) attributes.set('objectguid', { values: [guid.toString('latin1')], buffers: [guid] });
  return { dn, attributes };
}

const byUsername = (name: string): SubjectIdentifiers => ({
  _id: `u-${name}`,
  username: name,
  ldap: undefined,
});

/** The map over these entries, owners counted over `users`, and every user's match. */
async function matchesOf(
  entries: DirectoryEntry[],
  users: SubjectIdentifiers[],
  storedIdAttributes: string[] = [],
) {
  const map = await DirectoryMap.read(sessionOver(entries), configuration, storedIdAttributes);
  map.countOwners(users);
  return { map, matches: Object.fromEntries(users.map((user) => [user._id, map.match(user)])) };
}

describe('the directory map (the whole user subtree read once)', () => {
  it('matches each user to its one entry, and says which are ambiguous, shared or not found', async () => {
    const { matches } = await matchesOf(
      [
        entry('uid=ann,dc=example,dc=org', ['ann'], ['eng']),
        entry('uid=bob,ou=a,dc=example,dc=org', ['bob'], ['eng']),
        entry('uid=bob,ou=b,dc=example,dc=org', ['bob'], ['sales']),
        // One entry both cid and dee answer to, and neither has another.
        entry('cn=team,dc=example,dc=org', ['cid', 'dee'], ['ops']),
        // eve shares this one too, but has an entry of her own as well: she is ambiguous, not shared.
        entry('cn=pair,dc=example,dc=org', ['eve', 'fay'], ['legal']),
        entry('uid=eve,dc=example,dc=org', ['eve'], ['legal']),
        entry('uid=nobody,dc=example,dc=org', ['nobody'], ['eng']),
      ],
      ['ann', 'bob', 'cid', 'dee', 'eve', 'fay', 'gus'].map(byUsername),
    );
    expect(matches).toEqual({
      'u-ann': { kind: 'found', next: [{ key: 'department', values: ['eng'] }] },
      'u-bob': { kind: 'ambiguous' },
      'u-cid': { kind: 'shared' },
      'u-dee': { kind: 'shared' },
      'u-eve': { kind: 'ambiguous' },
      'u-fay': { kind: 'found', next: [{ key: 'department', values: ['legal'] }] },
      'u-gus': { kind: 'notFound' },
    });
  });

  it('finds a user by the bytes of their stored identifier, whatever their username, and usernames ignoring case', async () => {
    const guid = Buffer.from('e00425fa894fd3119a0c0305e82c3301', 'hex');
    const { matches } = await matchesOf(
      [
        entry('uid=ann,dc=example,dc=org', ['ann'], ['eng'], guid),
        entry('uid=Bob,dc=example,dc=org', ['Bob'], ['ops']),
      ],
      [
        {
          _id: 'u-renamed',
          username: 'renamed',
          ldap: { id: guid.toString('hex').toUpperCase(), idAttribute: undefined },
        },
        { _id: 'u-other-id', username: 'ann', ldap: { id: 'ff', idAttribute: 'objectGUID' } },
        byUsername('BOB'),
      ],
    );
    expect(matches).toEqual({
      'u-renamed': { kind: 'found', next: [{ key: 'department', values: ['eng'] }] },
      'u-other-id': { kind: 'notFound' },
      'u-BOB': { kind: 'found', next: [{ key: 'department', values: ['ops'] }] },
    });
  });

  it('counts a user found by stored identifier and one found by username on the same entry as sharing it', async () => {
    const uidBytes = Buffer.from('jose').toString('hex');
    const jose = byUsername('jose');
    const renamed = { _id: 'u-jose-2', username: 'jose-renamed', ldap: { id: uidBytes, idAttribute: 'uid' } };
    const { matches } = await matchesOf(
      [entry('uid=jose,dc=example,dc=org', ['jose'], ['eng'])],
      [jose, renamed],
      ['uid'],
    );
    expect(matches).toEqual({ 'u-jose': { kind: 'shared' }, 'u-jose-2': { kind: 'shared' } });
  });

  it('cannot tell about a user stored under an identifier attribute it did not read', async () => {
    const { map } = await matchesOf([entry('uid=ann,dc=example,dc=org', ['ann'], ['eng'])], []);
    expect(
      map.match({ _id: 'u-x', username: 'ann', ldap: { id: '616e6e', idAttribute: 'uid' } }),
    ).toBeUndefined();
  });

  it('stops reading past the entries it was allowed', async () => {
    const entries = ['ann', 'bob', 'cid'].map((name) =>
      entry(`uid=${name},dc=example,dc=org`, [name], ['eng']),
    );
    await expect(DirectoryMap.read(sessionOver(entries), configuration, [], 2)).rejects.toThrow(
      DirectoryLargerThanExpectedError,
    );
    expect((await DirectoryMap.read(sessionOver(entries), configuration, [], 3)).size).toBe(3);
  });

  it('keeps one frozen copy of each distinct attribute set, whoever holds it', async () => {
    const { matches } = await matchesOf(
      [
        entry('uid=ann,dc=example,dc=org', ['ann'], ['eng']),
        entry('uid=bob,dc=example,dc=org', ['bob'], ['eng']),
        entry('uid=cid,dc=example,dc=org', ['cid'], ['sales']),
      ],
      ['ann', 'bob', 'cid'].map(byUsername),
    );
    const nextOf = (id: string) => {
      const match = matches[id];
      return match?.kind === 'found' ? match.next : undefined;
    };
    expect(nextOf('u-ann')).toBe(nextOf('u-bob'));
    expect(nextOf('u-cid')).toEqual([{ key: 'department', values: ['sales'] }]);
    expect(() => nextOf('u-ann')!.push({ key: 'x', values: [] })).toThrow(TypeError);
    expect(() => nextOf('u-ann')![0]!.values.push('sales')).toThrow(TypeError);
  });
});

describe('attribute sets shared between users', () => {
  it('gives back the same copy for the same keys and values in the same order, and no other', () => {
    const sets = new AttributeSets();
    const eng = sets.shared([{ key: 'department', values: ['eng', 'ops'] }]);
    expect(sets.shared([{ key: 'department', values: ['eng', 'ops'] }])).toBe(eng);
    // The order is kept as the directory gave it: a write compares stored values in order.
    expect(sets.shared([{ key: 'department', values: ['ops', 'eng'] }])).not.toBe(eng);
    expect(sets.shared([{ key: 'departmen', values: ['teng', 'ops'] }])).not.toBe(eng);
    expect(sets.shared([])).toEqual([]);
    expect(sets.size).toBe(4);
  });
});
