import type { DirectorySession } from '../../lib/ldap/directory';

/** The real session with its search replaced (for tests that observe or interrupt searches). */
export function withSearch(session: DirectorySession, search: DirectorySession['search']): DirectorySession {
  return {
    get stats() {
      return session.stats;
    },
    get connected() {
      return session.connected;
    },
    keepProcessAlive: (keep) => session.keepProcessAlive(keep),
    search,
    close: () => session.close(),
  };
}
