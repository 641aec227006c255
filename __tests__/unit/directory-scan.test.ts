import type { DirectoryEntry } from '../../lib/ldap/directory';
import { AttributeSets } from '../../lib/sync/attribute-sets';
import { scanDirectory } from '../../lib/sync/directory-scan';
import { SubjectIndex } from '../../lib/sync/entry-lookup';
import { syncConfiguration } from '../../lib/sync/sync-configuration';
import { ldapSubject } from '../helpers/subjects';
import { MEMORY_DIRECTORY_SETTINGS, sessionOver } from '../helpers/memory-directory';

const configuration = syncConfiguration(MEMORY_DIRECTORY_SETTINGS);

/** An entry answering to the uids given (several uids: one entry that two users name). */
function entry(dn: string, uids: string[], departments: string[]): DirectoryEntry {
  const attribute = (values: string[]) => ({ values, buffers: values.map((value) => Buffer.from(value)) });
  return {
    dn,
    attributes: new Map([
      ['uid', attribute(uids)],
      ['departmentnumber', attribute(departments)],
    ]),
  };
}

describe('the read of the whole user subtree', () => {
  it('matches each user to its one entry, and says which are ambiguous, shared or not found', async () => {
    const subjects = ['ann', 'bob', 'cid', 'dee', 'eve', 'fay'].map((name) =>
      ldapSubject({ _id: `u-${name}`, username: name }),
    );
    const matches = await scanDirectory(
      sessionOver([
        entry('uid=ann,dc=example,dc=org', ['ann'], ['eng']),
        entry('uid=bob,ou=a,dc=example,dc=org', ['bob'], ['eng']),
        entry('uid=bob,ou=b,dc=example,dc=org', ['bob'], ['sales']),
        // One entry both cid and dee answer to, and neither has another.
        entry('cn=team,dc=example,dc=org', ['cid', 'dee'], ['ops']),
        // eve shares this one too, but has an entry of her own as well: she is ambiguous, not shared.
        entry('cn=pair,dc=example,dc=org', ['eve', 'fay'], ['legal']),
        entry('uid=eve,dc=example,dc=org', ['eve'], ['legal']),
        entry('uid=nobody,dc=example,dc=org', ['nobody'], ['eng']),
      ]),
      configuration,
      new SubjectIndex(configuration.search).add(subjects),
    );
    expect(Object.fromEntries(matches)).toEqual({
      'u-ann': { kind: 'found', next: [{ key: 'department', values: ['eng'] }] },
      'u-bob': { kind: 'ambiguous' },
      'u-cid': { kind: 'shared' },
      'u-dee': { kind: 'shared' },
      'u-eve': { kind: 'ambiguous' },
      'u-fay': { kind: 'found', next: [{ key: 'department', values: ['legal'] }] },
    });
  });

  it('keeps one frozen copy of each distinct attribute set, whoever holds it', async () => {
    const subjects = ['ann', 'bob', 'cid'].map((name) => ldapSubject({ _id: `u-${name}`, username: name }));
    const matches = await scanDirectory(
      sessionOver([
        entry('uid=ann,dc=example,dc=org', ['ann'], ['eng']),
        entry('uid=bob,dc=example,dc=org', ['bob'], ['eng']),
        entry('uid=cid,dc=example,dc=org', ['cid'], ['sales']),
      ]),
      configuration,
      new SubjectIndex(configuration.search).add(subjects),
    );
    const nextOf = (id: string) => {
      const match = matches.get(id);
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
