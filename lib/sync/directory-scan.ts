import type { AbacAttribute } from './abac-attribute';
import type { DirectorySession } from '../ldap/directory';
import { mapEntry } from './attribute-mapping';
import { AttributeSets } from './attribute-sets';
import type { SubjectIndex } from './entry-lookup';
import type { SyncConfiguration } from './sync-configuration';
import type { ResolvedMatch } from './sync-plan';

/**
 * Reads the whole user subtree once (paged, no size limit of its own) and joins each entry to the subjects
 * it belongs to, by the same identifiers as the batched lookups. Keeps per subject only what planning
 * needs (the mapped attributes of its entry, shared with every subject whose entry maps to the same set),
 * never the entries. Resolves with a match for every subject found; the others were not found. A server
 * size limit that cuts the read short throws LdapSizeLimitExceededError (the caller falls back to batched
 * lookups).
 */
export async function scanDirectory(
  session: DirectorySession,
  { search, mapping }: SyncConfiguration,
  index: SubjectIndex,
): Promise<Map<string, ResolvedMatch>> {
  const matches = new Map<string, ResolvedMatch>();
  // While reading: each subject's first entry, and the owners of every entry that has several.
  const firstEntryOf = new Map<string, string>();
  const ownersOfSharedEntries = new Map<string, Set<string>>();
  const sets = new AttributeSets();
  await session.search(
    {
      baseDN: search.baseDN,
      scope: search.scope,
      filter: { kind: 'configured', text: search.userFilter },
      attributes: [...new Set([...mapping.ldapAttributes, ...search.searchFields, ...index.idAttributes])],
      pageSize: search.pageSize,
      sizeLimit: 0,
    },
    (entry) => {
      const owners = index.owners(entry);
      if (owners.size === 0) return;
      const dn = entry.dn.toLowerCase();
      let next: AbacAttribute[] | undefined;
      for (const owner of owners) {
        const first = firstEntryOf.get(owner);
        if (first === undefined) {
          next ??= sets.shared(mapEntry(entry, mapping));
          firstEntryOf.set(owner, dn);
          matches.set(owner, { kind: 'found', next });
        } else if (first !== dn) matches.set(owner, { kind: 'ambiguous' });
      }
      if (owners.size > 1) {
        const known = ownersOfSharedEntries.get(dn);
        if (known) for (const owner of owners) known.add(owner);
        else ownersOfSharedEntries.set(dn, new Set(owners));
      }
    },
  );
  // As the lookups decide: several entries make a subject ambiguous; a subject's one entry that is also
  // another subject's one entry is shared, and neither may take its attributes.
  for (const [dn, owners] of ownersOfSharedEntries) {
    const onlyEntryOf = [...owners].filter(
      (owner) => matches.get(owner)?.kind === 'found' && firstEntryOf.get(owner) === dn,
    );
    if (onlyEntryOf.length > 1) for (const owner of onlyEntryOf) matches.set(owner, { kind: 'shared' });
  }
  return matches;
}
