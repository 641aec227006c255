import type { SyncSubject } from '../../lib/sync/sync-store';

/** A user as the store hands it to the engine: from LDAP, found by username, holding nothing yet. */
export function ldapSubject(overrides: Partial<SyncSubject> = {}): SyncSubject {
  return {
    _id: 'u1',
    username: 'alice',
    emails: [],
    storedAttributes: [],
    rooms: [],
    ldap: undefined,
    fromLdap: true,
    outbox: undefined,
    ...overrides,
  };
}
