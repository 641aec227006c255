import type { DirectoryEntry, DirectorySession } from './ldap/directory';
import { allOf, anyOf, equals, type DirectoryFilter } from './ldap/filter';
import type { SyncConfiguration } from './sync-configuration';
import type { SyncSubject } from './user-lookup';
import { addToGroup } from './group';

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
 * identifier when the user has one, otherwise by the search field(s) = username. Entries are matched back
 * as they stream in; only entries that belong to a subject are kept.
 */
export async function lookUpEntries(
  session: DirectorySession,
  configuration: SyncConfiguration,
  subjects: readonly SyncSubject[],
): Promise<Map<string, EntryMatch>> {
  const entriesBySubject = new Map<string, Map<string, DirectoryEntry>>();
  const { search, mapping } = configuration;
  const searchable = subjects.filter((subject) => subject.ldap || subject.username);
  for (let start = 0; start < searchable.length; start += USERS_PER_SEARCH) {
    const chunk = searchable.slice(start, start + USERS_PER_SEARCH);
    const index = indexSubjects(chunk, search.searchFields);
    await session.search(
      {
        baseDN: search.baseDN,
        scope: search.scope,
        filter: allOf([
          { kind: 'configured', text: search.userFilter },
          anyOf(chunk.flatMap((s) => clauses(s, search.searchFields))),
        ]),
        attributes: [...new Set([...mapping.ldapAttributes, ...search.searchFields, ...index.idAttributes])],
        pageSize: search.pageSize,
        sizeLimit: search.sizeLimit,
      },
      (entry) => {
        for (const subjectId of index.owners(entry)) {
          const entries = entriesBySubject.get(subjectId) ?? new Map<string, DirectoryEntry>();
          entries.set(entry.dn.toLowerCase(), entry);
          entriesBySubject.set(subjectId, entries);
        }
      },
    );
  }
  return matchSubjects(subjects, entriesBySubject);
}

/** One match per subject: its only entry, unless it has several or shares its entry with another subject. */
function matchSubjects(
  subjects: readonly SyncSubject[],
  entriesBySubject: Map<string, Map<string, DirectoryEntry>>,
): Map<string, EntryMatch> {
  const subjectsByEntry = new Map<string, string[]>();
  for (const [subjectId, entries] of entriesBySubject) {
    if (entries.size === 1) for (const dn of entries.keys()) addToGroup(subjectsByEntry, dn, subjectId);
  }
  const matches = new Map<string, EntryMatch>();
  for (const subject of subjects) {
    const entries = [...(entriesBySubject.get(subject._id) ?? new Map<string, DirectoryEntry>())];
    const [only] = entries;
    if (entries.length > 1) matches.set(subject._id, { kind: 'ambiguous' });
    else if (!only) matches.set(subject._id, { kind: 'notFound' });
    else if ((subjectsByEntry.get(only[0])?.length ?? 0) > 1) matches.set(subject._id, { kind: 'shared' });
    else matches.set(subject._id, { kind: 'found', entry: only[1] });
  }
  return matches;
}

function clauses(subject: SyncSubject, searchFields: readonly string[]): DirectoryFilter[] {
  if (subject.ldap) return [equals(subject.ldap.idAttribute, Buffer.from(subject.ldap.id, 'hex'))];
  return searchFields.map((field) => equals(field, subject.username));
}

/** Lookup tables from an entry's identifier values back to the subjects that asked for them. */
function indexSubjects(subjects: readonly SyncSubject[], searchFields: readonly string[]) {
  const byId = new Map<string, string[]>();
  const byUsername = new Map<string, string[]>();
  const idAttributes = new Set<string>();
  for (const subject of subjects) {
    if (subject.ldap) {
      const attribute = subject.ldap.idAttribute.toLowerCase();
      idAttributes.add(attribute);
      addToGroup(byId, `${attribute}:${subject.ldap.id.toLowerCase()}`, subject._id);
    } else {
      addToGroup(byUsername, subject.username.toLowerCase(), subject._id);
    }
  }
  const fields = searchFields.map((field) => field.toLowerCase());
  return {
    idAttributes: [...idAttributes],
    owners(entry: DirectoryEntry): Set<string> {
      const owners = new Set<string>();
      for (const attribute of idAttributes) {
        for (const buffer of entry.attributes.get(attribute)?.buffers ?? []) {
          for (const owner of byId.get(`${attribute}:${buffer.toString('hex')}`) ?? []) owners.add(owner);
        }
      }
      for (const field of fields) {
        for (const value of entry.attributes.get(field)?.values ?? []) {
          for (const owner of byUsername.get(value.toLowerCase()) ?? []) owners.add(owner);
        }
      }
      return owners;
    },
  };
}
