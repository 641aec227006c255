import type { DirectoryEntry, DirectorySearch } from '../../lib/ldap/directory';
import { lookUpEntries, readAheadByUsername } from '../../lib/sync/entry-lookup';
import { syncConfiguration } from '../../lib/sync/sync-configuration';
import {
  MEMORY_DIRECTORY_SETTINGS,
  MemoryDirectory,
  memoryEngine,
  sessionOver,
} from '../helpers/memory-directory';
import { MemorySyncStore } from '../helpers/memory-sync-store';
import { ldapSubject } from '../helpers/subjects';

// A request reads the directory by the usernames it names while MongoDB finds the users. The entries read
// ahead must match users exactly as the lookups would have (pure: no servers).

const configuration = syncConfiguration({ ...MEMORY_DIRECTORY_SETTINGS, LDAP_User_Search_Field: 'uid,mail' });

function person(uid: string, extra: Record<string, string[]> = {}): DirectoryEntry {
  const attributes = new Map(
    Object.entries({ uid: [uid], departmentnumber: [`${uid}-dept`], ...extra }).map(([name, values]) => [
      name,
      { values, buffers: values.map((value) => Buffer.from(value)) },
    ]),
  );
  return { dn: `uid=${uid},dc=example,dc=org`, attributes };
}

const directory = [
  person('alice'),
  person('bob'),
  // carol's mail is another entry's uid: a user named "carol" has two entries.
  person('carol'),
  person('carla', { mail: ['carol'] }),
  person('dave', { entryuuid: ['dave-uuid'] }),
];

const subjects = [
  ldapSubject({ _id: 'u-alice', username: 'alice' }),
  ldapSubject({ _id: 'u-carol', username: 'carol' }),
  ldapSubject({ _id: 'u-nobody', username: 'nobody' }),
  // Found by username in MongoDB whatever its case; searched ahead as named, so looked up on its own.
  ldapSubject({ _id: 'u-bob', username: 'bob' }),
  // Bound to dave's entry by its stored identifier, and "dave" by username: both hold one entry.
  ldapSubject({
    _id: 'u-bound',
    username: 'someone-else',
    ldap: { id: Buffer.from('dave-uuid').toString('hex'), idAttribute: 'entryUUID' },
  }),
  ldapSubject({ _id: 'u-dave', username: 'dave' }),
];

describe('reading the directory ahead by username', () => {
  it('matches every user as the lookups alone would: found, not found, ambiguous, shared', async () => {
    const alone = await lookUpEntries(sessionOver(directory), configuration, subjects);
    const session = sessionOver(directory);
    const ahead = await readAheadByUsername(session, configuration, [
      'alice',
      'carol',
      'nobody',
      'BOB',
      'dave',
    ]);
    // The memory directory compares exactly: "BOB" reads no entry.
    expect(ahead?.entries.map((entry) => entry.dn)).toHaveLength(4);
    const searched: DirectorySearch[] = [];
    const recording = {
      ...session,
      search: (search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void) => {
        searched.push(search);
        return session.search(search, onEntry);
      },
    };
    const withAhead = await lookUpEntries(recording, configuration, subjects, ahead);
    expect(withAhead).toEqual(alone);
    expect([...withAhead].map(([id, match]) => `${id}:${match.kind}`)).toEqual([
      'u-alice:found',
      'u-carol:ambiguous',
      'u-nobody:notFound',
      'u-bob:found',
      'u-bound:shared',
      'u-dave:shared',
    ]);
    // Only the users not read ahead were searched again: bob (named "BOB") and the one bound by identifier.
    expect(searched).toHaveLength(1);
    expect(JSON.stringify(searched[0]!.filter)).toContain('"value":"bob"');
    expect(JSON.stringify(searched[0]!.filter)).not.toContain('alice');
  });

  it('reads nothing ahead of more usernames than one search may return', async () => {
    const limited = syncConfiguration({ ...MEMORY_DIRECTORY_SETTINGS, LDAP_Search_Size_Limit: 2 });
    expect(
      await readAheadByUsername(sessionOver(directory), limited, ['alice', 'bob', 'carol']),
    ).toBeUndefined();
  });

  it('searches the directory while MongoDB is still finding the users', async () => {
    const store = new MemorySyncStore();
    store.users.set('u-alice', { _id: 'u-alice', username: 'alice', ldap: true });
    const ldap = new MemoryDirectory({ alice: ['eng'] });
    const searches: string[] = [];
    const open = ldap.open.bind(ldap);
    ldap.open = async () => {
      const session = await open();
      return {
        ...session,
        search: async (search, onEntry) => {
          searches.push(JSON.stringify(search.filter));
          await session.search(search, onEntry);
        },
      };
    };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const find = store.findSubjects.bind(store);
    store.findSubjects = async (identifiers) => {
      await gate;
      return find(identifiers);
    };
    const { service } = memoryEngine(store, ldap, { now: () => 0 });
    const synced = service.sync({
      identifiers: { usernames: ['alice'] },
      dryRun: false,
      actor: { type: 'user', _id: 'admin', username: 'admin' },
      requestId: 'r1',
    });
    for (let tick = 0; tick < 20 && searches.length === 0; tick += 1)
      await new Promise((resolve) => setImmediate(resolve));
    expect(searches).toHaveLength(1);
    release();
    expect((await synced).summary).toMatchObject({ matched: 1, updated: 1 });
    // The entry read ahead served the user: one search in all.
    expect(searches).toHaveLength(1);
    expect(store.users.get('u-alice')?.abacAttributes).toEqual([{ key: 'department', values: ['eng'] }]);
  });
  it('drops reads begun for a caller the gate then refuses: the session they opened is closed, nothing written', async () => {
    const store = new MemorySyncStore();
    store.users.set('u-alice', { _id: 'u-alice', username: 'alice', ldap: true });
    const ldap = new MemoryDirectory({ alice: ['eng'] });
    const sessions = { opened: 0, closed: 0 };
    const open = ldap.open.bind(ldap);
    ldap.open = async () => {
      const session = await open();
      sessions.opened += 1;
      return { ...session, close: async () => void (sessions.closed += 1) };
    };
    const { service } = memoryEngine(store, ldap, { now: () => 0 });
    await service.begin({ usernames: ['alice'] }).abandon();
    expect(sessions).toEqual({ opened: 1, closed: 1 });
    expect(store.users.get('u-alice')?.abacAttributes).toBeUndefined();
    expect(store.auditTrail.size).toBe(0);

    // Begun, then finished: the same sync as one made at once, on the one session.
    const begun = service.begin({ usernames: ['alice'] });
    const report = await begun.finish({
      dryRun: false,
      actor: { type: 'user', _id: 'admin', username: 'admin' },
      requestId: 'r2',
    });
    expect(report.summary).toMatchObject({ matched: 1, updated: 1 });
    expect(sessions).toEqual({ opened: 2, closed: 2 });
  });
});
