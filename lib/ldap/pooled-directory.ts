import { createHash } from 'node:crypto';
import { LdapConnectionLostError, LdapSizeLimitExceededError, LdapUnavailableError } from '../errors';
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
  /**
   * Connections open at once per server and account, in use or idle (default 10). A sync that finds them
   * all in use waits for one, at most LDAP_Timeout, then fails with 503.
   */
  maxOpen: number;
}

export const DEFAULT_LDAP_POOL: LdapPoolOptions = { maxIdle: 4, idleTimeoutMs: 30_000, maxOpen: 10 };

/** A sync waiting for a connection: handed one that was released, or told that a slot is free. */
interface Waiter {
  wake(handed: DirectorySession | undefined): void;
}

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
  /** Connections open per key, in use or idle (counted from the moment one is being opened). */
  private readonly openCount = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();

  constructor(
    private readonly inner: Directory,
    private readonly options: LdapPoolOptions = DEFAULT_LDAP_POOL,
  ) {}

  async open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    const key = poolKey(settings);
    const deadline = Date.now() + settings.operationTimeoutMs;
    for (;;) {
      const reused = this.take(key);
      if (reused) return this.lend(key, settings, reused, true);
      if ((this.openCount.get(key) ?? 0) < this.options.maxOpen)
        return this.lend(key, settings, await this.openNew(key, settings), false);
      const handed = await this.waitForConnection(key, deadline);
      if (handed) return this.lend(key, settings, handed, true);
    }
  }

  private lend(key: string, settings: LdapConnectionSettings, session: DirectorySession, reused: boolean) {
    return new PooledSession(session, reused, {
      reconnect: () => this.openNew(key, settings),
      release: (released) => this.release(key, released),
      discard: (discarded) => this.discard(key, discarded),
    });
  }

  /** Opens a connection in a slot of the key's; the slot is given back if the open fails. */
  private async openNew(key: string, settings: LdapConnectionSettings): Promise<DirectorySession> {
    this.openCount.set(key, (this.openCount.get(key) ?? 0) + 1);
    try {
      return await this.inner.open(settings);
    } catch (error) {
      this.slotFreed(key);
      throw error;
    }
  }

  private waitForConnection(key: string, deadline: number): Promise<DirectorySession | undefined> {
    return new Promise((resolve, reject) => {
      const queue = this.waiters.get(key) ?? [];
      const waiter: Waiter = {
        wake: (handed) => {
          clearTimeout(timer);
          resolve(handed);
        },
      };
      const timer = setTimeout(
        () => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(
            new LdapUnavailableError(
              `no LDAP connection came free in time: all ${this.options.maxOpen} (ldapPool.maxOpen) were in use`,
            ),
          );
        },
        Math.max(0, deadline - Date.now()),
      );
      queue.push(waiter);
      this.waiters.set(key, queue);
    });
  }

  /** Closes a connection nobody waits for (close() resolves in every case; the catch is for the contract). */
  private discardQuietly(key: string, session: DirectorySession): void {
    this.discard(key, session).catch(() => undefined);
  }

  /** A connection closed: its slot goes to the longest waiter, who opens a new one. */
  private slotFreed(key: string): void {
    this.openCount.set(key, Math.max(0, (this.openCount.get(key) ?? 0) - 1));
    this.waiters.get(key)?.shift()?.wake(undefined);
  }

  private async discard(key: string, session: DirectorySession): Promise<void> {
    try {
      await session.close();
    } finally {
      this.slotFreed(key);
    }
  }

  /** Closes every idle connection (the host calls this when it shuts down). */
  async close(): Promise<void> {
    const idle = [...this.idle].flatMap(([key, sessions]) =>
      sessions.map((session) => ({ key, ...session })),
    );
    this.idle.clear();
    for (const { timer } of idle) clearTimeout(timer);
    await Promise.all(idle.map(({ key, session }) => this.discard(key, session)));
  }

  private take(key: string): DirectorySession | undefined {
    const sessions = this.idle.get(key) ?? [];
    for (let idle = sessions.pop(); idle; idle = sessions.pop()) {
      clearTimeout(idle.timer);
      if (idle.session.connected) {
        idle.session.keepProcessAlive(true);
        return idle.session;
      }
      this.discardQuietly(key, idle.session);
    }
    return undefined;
  }

  private async release(key: string, session: DirectorySession): Promise<void> {
    if (!session.connected) return this.discard(key, session);
    const waiter = this.waiters.get(key)?.shift();
    if (waiter) return waiter.wake(session);
    const sessions = this.idle.get(key) ?? [];
    if (sessions.length >= this.options.maxIdle) return this.discard(key, session);
    session.keepProcessAlive(false);
    const timer = setTimeout(() => {
      const index = sessions.findIndex((idle) => idle.session === session);
      if (index >= 0) sessions.splice(index, 1);
      this.discardQuietly(key, session);
    }, this.options.idleTimeoutMs);
    timer.unref();
    sessions.push({ session, timer });
    this.idle.set(key, sessions);
  }
}

interface PoolHooks {
  reconnect(): Promise<DirectorySession>;
  release(session: DirectorySession): Promise<void>;
  discard(session: DirectorySession): Promise<void>;
}

/** A session on loan from the pool; its stats count this loan only. */
class PooledSession implements DirectorySession {
  readonly stats: DirectoryStats = { searchRoundTrips: 0, entries: 0, references: 0 };
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
      // A size limit ends the search, not the connection.
      if (error instanceof LdapSizeLimitExceededError) throw error;
      this.broken = true;
      const stale = this.reused && !this.proven && received === 0 && error instanceof LdapConnectionLostError;
      if (!stale) throw error;
      await this.hooks.discard(this.session);
      this.session = await this.hooks.reconnect();
      this.reused = false;
      await this.counted(search, counting);
      this.broken = false;
    }
    this.proven = true;
  }

  async close(): Promise<void> {
    if (this.broken) await this.hooks.discard(this.session);
    else await this.hooks.release(this.session);
  }

  private async counted(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void) {
    const before = { ...this.session.stats };
    try {
      await this.session.search(search, onEntry);
    } finally {
      this.stats.searchRoundTrips += this.session.stats.searchRoundTrips - before.searchRoundTrips;
      this.stats.entries += this.session.stats.entries - before.entries;
      this.stats.references += this.session.stats.references - before.references;
    }
  }
}

/** Settings that decide which connection may serve a sync; hashed so the password is not kept as a key. */
function poolKey(settings: LdapConnectionSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('base64url');
}
