import { LdapUnavailableError } from '../../lib/errors';
import type { Directory, DirectoryEntry, DirectorySession } from '../../lib/ldap/directory';
import type { DirectoryFilter } from '../../lib/ldap/filter';
import { SETTING_DEFAULTS, type SettingsSnapshot } from '../../lib/settings';
import { silentLogger } from '../../lib/logger';
import { noMetrics } from '../../lib/metrics';
import { AbacLdapSyncService } from '../../lib/sync/abac-ldap-sync-service';
import { AuditEvents } from '../../lib/sync/audit-events';
import type { Clock } from '../../lib/clock';
import type { DeferredWork } from '../../lib/deferred-work';
import { MemoryRoomMemberRemover, MemoryRoomMemberRestorer, type MemorySyncStore } from './memory-sync-store';

/** Settings that make the engine search the in-memory directory by uid and map departmentNumber. */
export const MEMORY_DIRECTORY_SETTINGS: SettingsSnapshot = Object.freeze({
  ...SETTING_DEFAULTS,
  ABAC_Enabled: true,
  LDAP_Enable: true,
  LDAP_Host: 'directory.invalid',
  LDAP_BaseDN: 'dc=example,dc=org',
  LDAP_User_Search_Field: 'uid',
  LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
});

/** Entries by uid; answers equality filters on uid (the configured filter matches every entry). */
export class MemoryDirectory implements Directory {
  down = false;
  constructor(readonly people: Record<string, string[]>) {}

  async open(): Promise<DirectorySession> {
    if (this.down) throw new LdapUnavailableError('directory down');
    const entries: DirectoryEntry[] = Object.entries(this.people).map(([uid, departments]) => ({
      dn: `uid=${uid},dc=example,dc=org`,
      attributes: new Map([
        ['uid', { values: [uid], buffers: [Buffer.from(uid)] }],
        [
          'departmentnumber',
          { values: departments, buffers: departments.map((value) => Buffer.from(value)) },
        ],
      ]),
    }));
    return sessionOver(entries);
  }
}

/** A session whose searches stream the entries the filter matches, in the order given. */
export function sessionOver(entries: readonly DirectoryEntry[]): DirectorySession {
  return {
    stats: { searchRoundTrips: 0, entries: 0, references: 0 },
    connected: true,
    keepProcessAlive: () => undefined,
    close: async () => undefined,
    search: async (search, onEntry) => {
      for (const entry of entries) if (matches(search.filter, entry)) onEntry(entry);
    },
  };
}

function matches(filter: DirectoryFilter, entry: DirectoryEntry): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.filters.every((part) => matches(part, entry));
    case 'or':
      return filter.filters.some((part) => matches(part, entry));
    case 'configured':
      return true;
    case 'equals':
      return (entry.attributes.get(filter.attribute.toLowerCase())?.values ?? []).includes(
        String(filter.value),
      );
    case 'atLeast':
      // Plain text order: right for generalized times of one format.
      return (entry.attributes.get(filter.attribute.toLowerCase())?.values ?? []).some(
        (value) => value >= filter.value,
      );
  }
}

/** The engine over the in-memory store and directory, with the in-memory room member remover. */
export function memoryEngine(
  store: MemorySyncStore,
  directory: MemoryDirectory,
  clock: Clock,
  deferredWork?: DeferredWork,
) {
  const remover = new MemoryRoomMemberRemover(store);
  const service = new AbacLdapSyncService({
    store,
    settings: { current: async () => MEMORY_DIRECTORY_SETTINGS },
    directory,
    memberRemover: remover,
    memberRestorer: new MemoryRoomMemberRestorer(store),
    audit: new AuditEvents(clock),
    logger: silentLogger,
    metrics: noMetrics,
    clock,
    deferredWork,
  });
  return { service, remover };
}
