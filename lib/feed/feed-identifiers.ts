import type { DirectoryEntry, DirectorySession } from '../ldap/directory';
import { allOf, equals } from '../ldap/filter';
import type { SyncConfiguration } from '../sync/sync-configuration';
import type { Identifiers } from '../sync/sync-request';
import type { FeedChange, FeedSearch } from './change-feed';

export type FeedIdentifiers = Required<Pick<Identifiers, 'usernames' | 'ldapIds' | 'ids'>>;

/**
 * The chat users a set of changes reaches, as a named-users request names them: a changed user entry by
 * its search-field values and unique identifiers; a changed group by its members now (`memberOf` names
 * the group) and by the users whose stored values hold the group's DN (the members it may have lost).
 */
export async function identifiersFor(
  session: DirectorySession,
  configuration: SyncConfiguration,
  search: FeedSearch,
  changes: readonly FeedChange[],
  usersHoldingValue: (value: string) => Promise<string[]>,
): Promise<FeedIdentifiers> {
  const usernames = new Set<string>();
  const ldapIds = new Set<string>();
  const ids = new Set<string>();
  const add = (entry: DirectoryEntry) => {
    for (const field of configuration.search.searchFields)
      for (const value of entry.attributes.get(field.toLowerCase())?.values ?? []) usernames.add(value);
    for (const field of configuration.search.uniqueIdentifierFields)
      for (const buffer of entry.attributes.get(field.toLowerCase())?.buffers ?? [])
        ldapIds.add(buffer.toString('hex'));
  };
  for (const change of changes) {
    if (change.kind === 'user') {
      add(change.entry);
      continue;
    }
    await session.search(
      {
        baseDN: search.users.baseDN,
        scope: search.users.scope,
        filter: allOf([{ kind: 'configured', text: search.users.userFilter }, equals('memberOf', change.dn)]),
        attributes: search.users.identifierAttributes,
        pageSize: search.pageSize,
        sizeLimit: 0,
      },
      add,
    );
    for (const id of await usersHoldingValue(change.dn)) ids.add(id);
  }
  return { usernames: [...usernames], ldapIds: [...ldapIds], ids: [...ids] };
}

/** The identifiers in chunks of at most `size` in all (none for none). */
export function* identifierChunks(identifiers: FeedIdentifiers, size: number): Generator<FeedIdentifiers> {
  const all = [
    ...identifiers.usernames.map((value) => ['usernames', value] as const),
    ...identifiers.ldapIds.map((value) => ['ldapIds', value] as const),
    ...identifiers.ids.map((value) => ['ids', value] as const),
  ];
  for (let start = 0; start < all.length; start += size) {
    const chunk: FeedIdentifiers = { usernames: [], ldapIds: [], ids: [] };
    for (const [list, value] of all.slice(start, start + size)) chunk[list].push(value);
    yield chunk;
  }
}
