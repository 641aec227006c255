import type { DirectoryFilter } from './filter';

export interface DirectoryAttribute {
  /** Values decoded as UTF-8 text. */
  values: string[];
  /** The same values as the raw bytes the server sent (for binary attributes such as objectGUID). */
  buffers: Buffer[];
}

/** An entry as the service sees it: attribute names lowercased (LDAP names are case-insensitive). */
export interface DirectoryEntry {
  dn: string;
  attributes: Map<string, DirectoryAttribute>;
}

export type SearchScope = 'base' | 'one' | 'sub';

export interface DirectorySearch {
  baseDN: string;
  scope: SearchScope;
  filter: DirectoryFilter;
  attributes: string[];
  pageSize: number;
  sizeLimit: number;
}

export interface LdapConnectionSettings {
  /** Tried in order until one accepts the connection (and TLS, and the bind). */
  hosts: string[];
  port: number;
  encryption: 'plain' | 'tls' | 'ssl';
  caCertPem: string | undefined;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  bind: { dn: string; password: string } | undefined;
}

export interface DirectoryStats {
  /** Search requests sent, one per page of a paged search: LDAP round trips spent on reading entries. */
  searchRoundTrips: number;
  entries: number;
  /** Search references (referrals) the server returned; they are not followed. */
  references: number;
}

/** One bound connection. close() always succeeds (it unbinds when it can). */
export interface DirectorySession {
  /**
   * Streams matching entries to onEntry; rejects with LdapUnavailableError on connection faults
   * (LdapConnectionLostError when the connection closed under the search), and with
   * LdapSizeLimitExceededError when the server ended it at a size limit (the connection stays usable).
   */
  search(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void): Promise<void>;
  /** Counts since the session was opened. */
  readonly stats: DirectoryStats;
  /** False once the connection is known to be closed. */
  readonly connected: boolean;
  /** Whether the open connection may keep the process alive (a pool lets idle ones not). */
  keepProcessAlive(keep: boolean): void;
  close(): Promise<void>;
}

/** The directory port: the service opens a session per sync and never sees the LDAP client. */
export interface Directory {
  /** Connects, upgrades to TLS when configured and binds; rejects with LdapUnavailableError. */
  open(settings: LdapConnectionSettings): Promise<DirectorySession>;
}
