import type { Directory, DirectorySession } from '../../lib/ldap/directory';
import { LdaptsDirectory } from '../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../lib/logger';

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

/** The real directory; searches wait while `gate` is set (a test holds a run in its planning phase). */
export class GatedDirectory implements Directory {
  gate: Promise<void> | undefined;
  private readonly real = new LdaptsDirectory(silentLogger);
  async open(settings: Parameters<Directory['open']>[0]): Promise<DirectorySession> {
    const session = await this.real.open(settings);
    return withSearch(session, async (search, onEntry) => {
      await this.gate;
      await session.search(search, onEntry);
    });
  }
}
