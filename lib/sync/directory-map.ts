import type { AbacAttribute } from './abac-attribute';
import type { DirectoryEntry, DirectorySession } from '../ldap/directory';
import { mapEntry } from './attribute-mapping';
import { AttributeSets } from './attribute-sets';
import { identifierAttributes } from './entry-lookup';
import type { SyncConfiguration, UserSearchSettings } from './sync-configuration';
import type { ResolvedMatch } from './sync-plan';
import type { EntryMap } from './entry-map';
import type { SubjectIdentifiers } from './sync-store';

/**
 * The user subtree as a directory-wide run needs it, read once: per entry only its mapped attribute set
 * (one shared copy per distinct set), found by the values that identify the entry (the bytes of each
 * unique identifier attribute read, and each search field's value, case ignored), never the entry. An
 * entry is read once, so its number names it. Users are matched by the same rules as the batched lookups:
 * by their stored identifier when they have one, otherwise by username; several entries make a user
 * ambiguous, and an entry that is the only entry of several users is shared by them (counted beforehand
 * over every user, with `countOwners`, so the first of them is never planned as found).
 */
export class DirectoryMap {
  private readonly nextOf: AbacAttribute[][] = [];
  private readonly byIdentifier = new Map<string, number | number[]>();
  private readonly byUsername = new Map<string, number | number[]>();
  /** Per entry, how many users name it as their only entry (2 stands for two or more). */
  private owners = new Uint8Array(0);
  private readonly sets = new AttributeSets();

  private constructor(
    private readonly search: UserSearchSettings,
    /** The identifier attributes read (lower case): users stored under another are not matched here. */
    private readonly idAttributes: ReadonlySet<string>,
    private readonly fields: readonly string[],
  ) {}

  /**
   * Reads the whole user subtree (paged, no size limit of its own) into a map, with the identifier
   * attributes of LDAP_Unique_Identifier_Field and those the users' identifiers were stored under. A server
   * size limit that cuts the read short throws LdapSizeLimitExceededError, and more entries than
   * `maxEntries` DirectoryLargerThanExpectedError (the caller then looks users up in batches).
   */
  static async read(
    session: DirectorySession,
    { search, mapping }: SyncConfiguration,
    storedIdAttributes: Iterable<string>,
    maxEntries = Number.POSITIVE_INFINITY,
  ): Promise<DirectoryMap> {
    const idAttributes = [
      ...new Set([...search.uniqueIdentifierFields, ...storedIdAttributes].map((name) => name.toLowerCase())),
    ];
    const map = new DirectoryMap(
      search,
      new Set(idAttributes),
      search.searchFields.map((field) => field.toLowerCase()),
    );
    await session.search(
      {
        baseDN: search.baseDN,
        scope: search.scope,
        filter: { kind: 'configured', text: search.userFilter },
        attributes: [...new Set([...mapping.ldapAttributes, ...search.searchFields, ...idAttributes])],
        pageSize: search.pageSize,
        sizeLimit: 0,
      },
      (entry) => {
        if (map.nextOf.length >= maxEntries) throw new DirectoryLargerThanExpectedError(maxEntries);
        map.add(entry, mapEntry(entry, mapping));
      },
    );
    map.owners = new Uint8Array(map.nextOf.length);
    return map;
  }

  /** How many entries were read. */
  get size(): number {
    return this.nextOf.length;
  }

  /** The map as an EntryMap kept in this thread. */
  asEntryMap(): EntryMap {
    return {
      size: this.size,
      heldIn: 'the host thread',
      countOwners: async (users) => this.countOwners(users),
      match: async (users) => users.map((user) => this.match(user)),
      close: async () => undefined,
    };
  }

  /** Counts, over every user, whose only entry each entry is (before any user is matched). */
  countOwners(users: readonly SubjectIdentifiers[]): void {
    for (const user of users) {
      const entries = this.entriesOf(user);
      if (entries?.length === 1) {
        const entry = entries[0]!;
        this.owners[entry] = Math.min(2, this.owners[entry]! + 1);
      }
    }
  }

  /**
   * A user's match, or undefined when the map cannot tell: their stored identifier is in an attribute this
   * read did not ask for (the caller looks them up instead).
   */
  match(user: SubjectIdentifiers): ResolvedMatch | undefined {
    const entries = this.entriesOf(user);
    if (entries === undefined) return undefined;
    if (entries.length === 0) return { kind: 'notFound' };
    if (entries.length > 1) return { kind: 'ambiguous' };
    const entry = entries[0]!;
    if (this.owners[entry]! > 1) return { kind: 'shared' };
    return { kind: 'found', next: this.nextOf[entry]! };
  }

  private add(entry: DirectoryEntry, mapped: AbacAttribute[]): void {
    const number = this.nextOf.length;
    this.nextOf.push(this.sets.shared(mapped));
    for (const attribute of this.idAttributes)
      for (const buffer of entry.attributes.get(attribute)?.buffers ?? [])
        addTo(this.byIdentifier, `${attribute}:${buffer.toString('hex')}`, number);
    for (const field of this.fields)
      for (const value of entry.attributes.get(field)?.values ?? [])
        addTo(this.byUsername, value.toLowerCase(), number);
  }

  /** The numbers of the entries a user answers to, each once; undefined when the map cannot tell. */
  private entriesOf(user: SubjectIdentifiers): number[] | undefined {
    const attributes = identifierAttributes(user, this.search).map((attribute) => attribute.toLowerCase());
    const found = new Set<number>();
    if (user.ldap && attributes.length > 0) {
      if (attributes.some((attribute) => !this.idAttributes.has(attribute))) return undefined;
      const id = user.ldap.id.toLowerCase();
      for (const attribute of attributes) addAll(found, this.byIdentifier.get(`${attribute}:${id}`));
    } else addAll(found, this.byUsername.get(user.username.toLowerCase()));
    return [...found];
  }
}

function addTo(index: Map<string, number | number[]>, key: string, entry: number): void {
  const known = index.get(key);
  if (known === undefined) index.set(key, entry);
  else if (typeof known === 'number') {
    if (known !== entry) index.set(key, [known, entry]);
  } else if (!known.includes(entry)) known.push(entry);
}

function addAll(found: Set<number>, entries: number | number[] | undefined): void {
  if (entries === undefined) return;
  if (typeof entries === 'number') found.add(entries);
  else for (const entry of entries) found.add(entry);
}

/** The subtree holds more entries than the read was allowed: looking its users up costs less. */
export class DirectoryLargerThanExpectedError extends Error {
  constructor(readonly maxEntries: number) {
    super(`the user subtree holds more than ${maxEntries} entries`);
    // Its name is how it crosses from the worker thread that may read the map.
    this.name = 'DirectoryLargerThanExpectedError';
  }
}
