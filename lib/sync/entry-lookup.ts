import { LdapSizeLimitExceededError } from '../errors';
import { addToGroup } from '../group';
import type { DirectoryEntry, DirectorySession } from '../ldap/directory';
import { allOf, anyOf, equals, type DirectoryFilter } from '../ldap/filter';
import type { SyncConfiguration, UserSearchSettings } from './sync-configuration';
import type { SubjectIdentifiers, SyncSubject } from './sync-store';

export type EntryMatch =
  | { kind: 'found'; entry: DirectoryEntry }
  | { kind: 'notFound' }
  /** More than one entry answers to the user. */
  | { kind: 'ambiguous' }
  /** The user's one entry is also another user's: neither may take its attributes. */
  | { kind: 'shared' };

/** Users per search: one OR filter, one round trip for a page of results. */
export const USERS_PER_SEARCH = 250;

/**
 * Finds each subject's entry with one batched search per chunk: by the raw bytes of the stored unique
 * identifier when the user has one (in its `idAttribute`, or else in any of LDAP_Unique_Identifier_Field),
 * otherwise by the search field(s) = username. Entries are matched back as they stream in; only entries
 * that belong to a subject are kept. Chunks are no larger than LDAP_Search_Size_Limit; a search that a size
 * limit still cuts short (a server limit, or users with several entries) is split in two and repeated, and a
 * single user with more entries than the limit is ambiguous.
 */
export async function lookUpEntries(
  session: DirectorySession,
  configuration: SyncConfiguration,
  subjects: readonly SyncSubject[],
  readAhead?: UsernameReadAhead,
): Promise<Map<string, EntryMatch>> {
  const entriesBySubject = new Map<string, Map<string, DirectoryEntry>>();
  const overLimit = new Set<string>();
  const { search } = configuration;
  // Subjects found by username whose username was read ahead: their entries are among those read.
  const ahead = readAhead
    ? subjects.filter(
        (subject) =>
          identifierAttributes(subject, search).length === 0 &&
          subject.username !== undefined &&
          readAhead.usernames.has(subject.username),
      )
    : [];
  if (ahead.length > 0) {
    const index = new SubjectIndex(search).add(ahead);
    for (const entry of readAhead!.entries)
      for (const subjectId of index.owners(entry)) {
        const entries = entriesBySubject.get(subjectId) ?? new Map<string, DirectoryEntry>();
        entries.set(entry.dn.toLowerCase(), entry);
        entriesBySubject.set(subjectId, entries);
      }
  }
  const readAlready = new Set(ahead.map((subject) => subject._id));
  const chunkSize = search.sizeLimit > 0 ? Math.min(USERS_PER_SEARCH, search.sizeLimit) : USERS_PER_SEARCH;
  const searchable = subjects.filter(
    (subject) => !readAlready.has(subject._id) && (subject.ldap || subject.username),
  );
  const chunks: SyncSubject[][] = [];
  for (let start = 0; start < searchable.length; start += chunkSize)
    chunks.push(searchable.slice(start, start + chunkSize));

  for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
    try {
      const found = await searchChunk(session, configuration, chunk);
      for (const [subjectId, entries] of found) entriesBySubject.set(subjectId, entries);
    } catch (error) {
      if (!(error instanceof LdapSizeLimitExceededError)) throw error;
      const [only] = chunk;
      if (chunk.length === 1 && only) overLimit.add(only._id);
      else chunks.unshift(chunk.slice(0, chunk.length / 2), chunk.slice(chunk.length / 2));
    }
  }
  return matchSubjects(subjects, entriesBySubject, overLimit);
}

/** Entries read by username before the users were known (a request's LDAP read beside its MongoDB read). */
export interface UsernameReadAhead {
  /** The usernames searched, as searched: a subject's own must be one of them exactly. */
  usernames: ReadonlySet<string>;
  entries: readonly DirectoryEntry[];
}

/**
 * Reads the entries that the search field(s) give for `usernames`, in one search, as the lookups would for
 * users found by username; undefined when it cannot be one search (more usernames than the size limit) or
 * a size limit cut it short: the lookups then read those users as usual.
 */
export async function readAheadByUsername(
  session: DirectorySession,
  { search, mapping }: SyncConfiguration,
  usernames: readonly string[],
): Promise<UsernameReadAhead | undefined> {
  const chunkSize = search.sizeLimit > 0 ? Math.min(USERS_PER_SEARCH, search.sizeLimit) : USERS_PER_SEARCH;
  if (usernames.length === 0 || usernames.length > chunkSize) return undefined;
  const entries: DirectoryEntry[] = [];
  try {
    await session.search(
      {
        baseDN: search.baseDN,
        scope: search.scope,
        filter: allOf([
          { kind: 'configured', text: search.userFilter },
          anyOf(usernames.flatMap((username) => search.searchFields.map((field) => equals(field, username)))),
        ]),
        attributes: [...new Set([...mapping.ldapAttributes, ...search.searchFields])],
        pageSize: search.pageSize,
        sizeLimit: search.sizeLimit,
      },
      (entry) => entries.push(entry),
    );
  } catch (error) {
    if (error instanceof LdapSizeLimitExceededError) return undefined;
    throw error;
  }
  return { usernames: new Set(usernames), entries };
}

/** One search for a chunk of subjects: their entries by subject id, complete or not at all. */
async function searchChunk(
  session: DirectorySession,
  { search, mapping }: SyncConfiguration,
  chunk: readonly SyncSubject[],
): Promise<Map<string, Map<string, DirectoryEntry>>> {
  const found = new Map<string, Map<string, DirectoryEntry>>();
  const index = new SubjectIndex(search).add(chunk);
  await session.search(
    {
      baseDN: search.baseDN,
      scope: search.scope,
      filter: allOf([
        { kind: 'configured', text: search.userFilter },
        anyOf(chunk.flatMap((subject) => clauses(subject, search))),
      ]),
      attributes: [...new Set([...mapping.ldapAttributes, ...search.searchFields, ...index.idAttributes])],
      pageSize: search.pageSize,
      sizeLimit: search.sizeLimit,
    },
    (entry) => {
      for (const subjectId of index.owners(entry)) {
        const entries = found.get(subjectId) ?? new Map<string, DirectoryEntry>();
        entries.set(entry.dn.toLowerCase(), entry);
        found.set(subjectId, entries);
      }
    },
  );
  return found;
}

/** One match per subject: its only entry, unless it has several or shares its entry with another subject. */
export function matchSubjects(
  subjects: readonly SyncSubject[],
  entriesBySubject: Map<string, Map<string, DirectoryEntry>>,
  overLimit: ReadonlySet<string>,
): Map<string, EntryMatch> {
  const subjectsByEntry = new Map<string, string[]>();
  for (const [subjectId, entries] of entriesBySubject) {
    if (entries.size === 1) for (const dn of entries.keys()) addToGroup(subjectsByEntry, dn, subjectId);
  }
  const matches = new Map<string, EntryMatch>();
  for (const subject of subjects) {
    const entries = [...(entriesBySubject.get(subject._id) ?? new Map<string, DirectoryEntry>())];
    const [only] = entries;
    if (entries.length > 1 || overLimit.has(subject._id)) matches.set(subject._id, { kind: 'ambiguous' });
    else if (!only) matches.set(subject._id, { kind: 'notFound' });
    else if ((subjectsByEntry.get(only[0])?.length ?? 0) > 1) matches.set(subject._id, { kind: 'shared' });
    else matches.set(subject._id, { kind: 'found', entry: only[1] });
  }
  return matches;
}

/** The attributes that may hold a subject's stored identifier (none: the subject is found by username). */
export function identifierAttributes(subject: SubjectIdentifiers, search: UserSearchSettings): string[] {
  if (!subject.ldap) return [];
  return subject.ldap.idAttribute ? [subject.ldap.idAttribute] : search.uniqueIdentifierFields;
}

function clauses(subject: SyncSubject, search: UserSearchSettings): DirectoryFilter[] {
  const idAttributes = identifierAttributes(subject, search);
  if (subject.ldap && idAttributes.length > 0) {
    const raw = Buffer.from(subject.ldap.id, 'hex');
    return idAttributes.map((attribute) => equals(attribute, raw));
  }
  return search.searchFields.map((field) => equals(field, subject.username));
}

/**
 * Lookup tables from an entry's identifier values back to the subjects that own them: by the stored unique
 * identifier (in its attribute, or any of LDAP_Unique_Identifier_Field) when the subject has one, otherwise
 * by the search field(s) = username. Subjects are added in batches; the tables grow with them.
 */
export class SubjectIndex {
  private readonly byId = new Map<string, string[]>();
  private readonly byUsername = new Map<string, string[]>();
  private readonly idAttributeSet = new Set<string>();
  private readonly fields: string[];

  constructor(private readonly search: UserSearchSettings) {
    this.fields = search.searchFields.map((field) => field.toLowerCase());
  }

  add(subjects: readonly SyncSubject[]): this {
    for (const subject of subjects) {
      const attributes = identifierAttributes(subject, this.search).map((attribute) =>
        attribute.toLowerCase(),
      );
      if (subject.ldap && attributes.length > 0) {
        for (const attribute of attributes) {
          this.idAttributeSet.add(attribute);
          addToGroup(this.byId, `${attribute}:${subject.ldap.id.toLowerCase()}`, subject._id);
        }
      } else {
        addToGroup(this.byUsername, subject.username.toLowerCase(), subject._id);
      }
    }
    return this;
  }

  /** The identifier attributes the subjects use (to request them with the entries). */
  get idAttributes(): string[] {
    return [...this.idAttributeSet];
  }

  /** The subjects an entry belongs to. */
  owners(entry: DirectoryEntry): Set<string> {
    const owners = new Set<string>();
    for (const attribute of this.idAttributeSet) {
      for (const buffer of entry.attributes.get(attribute)?.buffers ?? []) {
        for (const owner of this.byId.get(`${attribute}:${buffer.toString('hex')}`) ?? []) owners.add(owner);
      }
    }
    for (const field of this.fields) {
      for (const value of entry.attributes.get(field)?.values ?? []) {
        for (const owner of this.byUsername.get(value.toLowerCase()) ?? []) owners.add(owner);
      }
    }
    return owners;
  }
}
