import { createHash } from 'node:crypto';
import { LdapConnectionLostError } from '../errors';
import type {
  Directory,
  DirectoryEntry,
  DirectorySearch,
  DirectorySession,
  DirectoryStats,
  LdapConnectionSettings,
} from './directory';

export interface LdapPoolOptions {
  /** Bound connections kept open per server and account between syncs (default 4). */
  maxIdle: number;
  /** An idle connection is closed after this long (default 30 s). */
  idleTimeoutMs: number;
}

export const DEFAULT_LDAP_POOL: LdapPoolOptions = { maxIdle: 4, idleTimeoutMs: 30_000 };

interface IdleSession {
  session: DirectorySession;
  timer: NodeJS.Timeout;
}

/**
 * Keeps bound connections between syncs, so a sync skips the connect, StartTLS and bind. Connections are
 * pooled per settings (hosts, port, TLS, account: a changed setting never reuses an old connection). One
 * the server closed while idle is dropped when taken; if it closes just as a search starts (nothing
 * received yet), the search is retried once on a new connection. A timeout is never retried, so a frozen
 * server still fails within LDAP_Timeout.
 */
export class PooledDirectory implements Directory {
  private readonly idle = new Map<string, IdleSession[]>();

  constructor(
    private readonly inner: Directory,
    private readonly options: LdapPoolOptions = DEFAULT_LDAP_POOL,
  ) {}

  async open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    const key = poolKey(settings);
    const reused = this.take(key);
    const session = reused ?? (await this.inner.open(settings));
    return new PooledSession(session, reused !== undefined, {
      reconnect: () => this.inner.open(settings),
      release: (released) => this.release(key, released),
    });
  }

  /** Closes every idle connection (the host calls this when it shuts down). */
  async close(): Promise<void> {
    const sessions = [...this.idle.values()].flat();
    this.idle.clear();
    for (const { timer } of sessions) clearTimeout(timer);
    await Promise.all(sessions.map(({ session }) => session.close()));
  }

  private take(key: string): DirectorySession | undefined {
    const sessions = this.idle.get(key) ?? [];
    for (let idle = sessions.pop(); idle; idle = sessions.pop()) {
      clearTimeout(idle.timer);
      if (idle.session.connected) {
        idle.session.keepProcessAlive(true);
        return idle.session;
      }
      closeQuietly(idle.session);
    }
    return undefined;
  }

  private async release(key: string, session: DirectorySession): Promise<void> {
    const sessions = this.idle.get(key) ?? [];
    if (!session.connected || sessions.length >= this.options.maxIdle) return session.close();
    session.keepProcessAlive(false);
    const timer = setTimeout(() => {
      const index = sessions.findIndex((idle) => idle.session === session);
      if (index >= 0) sessions.splice(index, 1);
      closeQuietly(session);
    }, this.options.idleTimeoutMs);
    timer.unref();
    sessions.push({ session, timer });
    this.idle.set(key, sessions);
  }
}

interface PoolHooks {
  reconnect(): Promise<DirectorySession>;
  release(session: DirectorySession): Promise<void>;
}

/** A session on loan from the pool; its stats count this loan only. */
class PooledSession implements DirectorySession {
  readonly stats: DirectoryStats = { searchRoundTrips: 0, entries: 0 };
  private broken = false;
  /** Set once a search succeeded: a connection lost after that is a fault, not a stale connection. */
  private proven = false;

  constructor(
    private session: DirectorySession,
    private reused: boolean,
    private readonly hooks: PoolHooks,
  ) {}

  get connected(): boolean {
    return this.session.connected;
  }

  keepProcessAlive(keep: boolean): void {
    this.session.keepProcessAlive(keep);
  }

  async search(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void): Promise<void> {
    let received = 0;
    const counting = (entry: DirectoryEntry) => {
      received += 1;
      onEntry(entry);
    };
    try {
      await this.counted(search, counting);
    } catch (error) {
      this.broken = true;
      const stale = this.reused && !this.proven && received === 0 && error instanceof LdapConnectionLostError;
      if (!stale) throw error;
      await this.session.close();
      this.session = await this.hooks.reconnect();
      this.reused = false;
      await this.counted(search, counting);
      this.broken = false;
    }
    this.proven = true;
  }

  async close(): Promise<void> {
    if (this.broken) await this.session.close();
    else await this.hooks.release(this.session);
  }

  private async counted(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void) {
    const before = { ...this.session.stats };
    try {
      await this.session.search(search, onEntry);
    } finally {
      this.stats.searchRoundTrips += this.session.stats.searchRoundTrips - before.searchRoundTrips;
      this.stats.entries += this.session.stats.entries - before.entries;
    }
  }
}

/** Closes a connection nobody waits for (close() resolves in every case; the catch is for the contract). */
function closeQuietly(session: DirectorySession): void {
  session.close().catch(() => undefined);
}

/** Settings that decide which connection may serve a sync; hashed so the password is not kept as a key. */
function poolKey(settings: LdapConnectionSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('base64url');
}
