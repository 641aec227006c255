import type { AbacAttribute } from '../../models/user';
import type { DirectorySession } from '../ldap/directory';
import { mapEntry } from './attribute-mapping';
import type { SubjectIndex } from './entry-lookup';
import type { SyncConfiguration } from './sync-configuration';
import type { ResolvedMatch } from './sync-plan';

/**
 * Reads the whole user subtree once (paged, no size limit of its own) and joins each entry to the subjects
 * it belongs to, by the same identifiers as the batched lookups. Keeps per subject only what planning
 * needs (the mapped attributes of its entry and the DNs it answered to), never the entries. Resolves with
 * a match for every subject found; the others were not found. A server size limit that cuts the read
 * short throws LdapSizeLimitExceededError (the caller falls back to batched lookups).
 */
export async function scanDirectory(
  session: DirectorySession,
  { search, mapping }: SyncConfiguration,
  index: SubjectIndex,
): Promise<Map<string, ResolvedMatch>> {
  const bySubject = new Map<string, { dns: string[]; next: AbacAttribute[] }>();
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
      const next = mapEntry(entry, mapping);
      for (const owner of owners) {
        const seen = bySubject.get(owner);
        if (!seen) bySubject.set(owner, { dns: [dn], next });
        else if (!seen.dns.includes(dn)) seen.dns.push(dn);
      }
    },
  );
  // As the lookups decide: several entries make a subject ambiguous; a subject's one entry that is also
  // another subject's one entry is shared, and neither may take its attributes.
  const subjectsPerEntry = new Map<string, number>();
  for (const { dns } of bySubject.values()) {
    const [only] = dns;
    if (dns.length === 1 && only) subjectsPerEntry.set(only, (subjectsPerEntry.get(only) ?? 0) + 1);
  }
  const matches = new Map<string, ResolvedMatch>();
  for (const [subjectId, { dns, next }] of bySubject) {
    if (dns.length > 1) matches.set(subjectId, { kind: 'ambiguous' });
    else if ((subjectsPerEntry.get(dns[0]!) ?? 0) > 1) matches.set(subjectId, { kind: 'shared' });
    else matches.set(subjectId, { kind: 'found', next });
  }
  return matches;
}
