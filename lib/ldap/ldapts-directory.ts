import net from 'node:net';
import tls from 'node:tls';
import {
  AndFilter,
  Client,
  EqualityFilter,
  FilterParser,
  GreaterThanEqualsFilter,
  OrFilter,
  SizeLimitExceededError,
  type Entry,
  type Filter,
  type SearchResult,
} from 'ldapts';
import { LdapConnectionLostError, LdapSizeLimitExceededError, LdapUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type {
  Directory,
  DirectoryAttribute,
  DirectoryEntry,
  DirectorySearch,
  DirectorySession,
  DirectoryStats,
  LdapConnectionSettings,
} from './directory';
import type { DirectoryFilter } from './filter';
import { openFirstReachable, tlsOptions } from './reachable-host';
import {
  deliverWhole,
  parseRange,
  rangeSearch,
  readRemainingRanges,
  type EntryWithRanges,
} from './ranged-attributes';

/** The directory port on ldapts 8: promise-based, maintained; one connection per session, never reopened. */
export class LdaptsDirectory implements Directory {
  constructor(private readonly logger: Logger) {}

  open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    return openFirstReachable(settings, this.logger, (url, host) => openSession(url, host, settings));
  }
}

async function openSession(url: string, host: string, settings: LdapConnectionSettings) {
  // ldapts reconnects by itself when asked to send on a closed connection, and such a connection is not
  // bound: a search on it would read as anonymous. One connection per client, and none after it.
  let opened = false;
  let upgraded = false;
  const client = new Client({
    url,
    connectTimeout: settings.connectTimeoutMs,
    timeout: settings.operationTimeoutMs,
    strictDN: false,
    ...(settings.encryption === 'ssl' ? { tlsOptions: tlsOptions(host, settings) } : {}),
    createConnection: ((...args: Parameters<typeof net.connect>) => {
      if (opened) throw new Error('the LDAP connection closed; a session never reconnects');
      opened = true;
      return net.connect(...args);
    }) as typeof net.connect,
    createSecureConnection: ((...args: Parameters<typeof tls.connect>) => {
      // ldaps: the connection itself; StartTLS: the one upgrade of the connection above.
      if (settings.encryption === 'ssl' ? opened : upgraded)
        throw new Error('the LDAP connection closed; a session never reconnects');
      if (settings.encryption === 'ssl') opened = true;
      else upgraded = true;
      return tls.connect(...args);
    }) as typeof tls.connect,
  });
  const session = new LdaptsSession(client, settings.operationTimeoutMs);
  try {
    if (settings.encryption === 'tls') await client.startTLS(tlsOptions(host, settings));
    // Without an account, an anonymous bind: it connects now, so an unreachable server fails over here.
    await client.bind(settings.bind?.dn ?? '', settings.bind?.password ?? '');
  } catch (error) {
    await session.close();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return session;
}

/** LDAP result code 4 (RFC 4511), as ldapts reports it. */
function isSizeLimitExceeded(error: unknown): boolean {
  return error instanceof SizeLimitExceededError;
}

class LdaptsSession implements DirectorySession {
  readonly stats: DirectoryStats = { searchRoundTrips: 0, entries: 0, references: 0 };

  constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {}

  get connected(): boolean {
    return this.client.isConnected;
  }

  keepProcessAlive(keep: boolean): void {
    const socket = (this.client as unknown as { socket?: { ref(): void; unref(): void } }).socket;
    if (keep) socket?.ref();
    else socket?.unref();
  }

  /**
   * Entries whose attributes came in ranges (Active Directory's `memberOf;range=0-1499`) are held until the
   * remaining ranges are read with base searches on the entry, then delivered whole.
   */
  async search(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void): Promise<void> {
    await deliverWhole(
      (onRaw) => this.searchPages(search, onRaw),
      normalise,
      (held) => this.readRemainingRanges(held),
      onEntry,
    );
  }

  private readRemainingRanges({ entry, ranges }: EntryWithRanges): Promise<void> {
    return readRemainingRanges(
      ranges,
      async (description) => {
        const sent: [string, (string | Buffer)[]][] = [];
        await this.searchPages(rangeSearch(entry.dn, description), (raw) => sent.push(...attributesOf(raw)));
        return sent;
      },
      (name, values) => appendValues(entry, name, values),
    );
  }

  /**
   * One search, page by page. The size limit is kept here, not sent: ldapts hands back the entries of a
   * search the server ended at a client's limit as if complete, even when the server's own lower limit
   * ended it. Sent none, the server's limit is reported (as LDAP result 4), and ours is counted.
   */
  private async searchPages(search: DirectorySearch, onEntry: (entry: Entry) => void): Promise<void> {
    // ldapts would reconnect, unbound, to send on a closed connection: refuse before it can.
    if (!this.client.isConnected)
      throw new LdapConnectionLostError('LDAP search failed: the connection is closed');
    const options = {
      scope: search.scope,
      filter: toLdaptsFilter(search.filter),
      attributes: search.attributes,
      // The requested names, so their values come as the bytes the server sent (binary identifiers).
      explicitBufferAttributes: search.attributes,
      // The server gives up when the client would: each page is one operation, timed by the client.
      timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)),
    };
    let delivered = 0;
    const deliver = (page: SearchResult) => {
      this.stats.searchRoundTrips += 1;
      this.stats.references += page.searchReferences.length;
      for (const entry of page.searchEntries) {
        delivered += 1;
        if (search.sizeLimit > 0 && delivered > search.sizeLimit)
          throw new LdapSizeLimitExceededError(
            `LDAP search ended at a size limit: more than ${search.sizeLimit} entries`,
          );
        this.stats.entries += 1;
        try {
          onEntry(entry);
        } catch (error) {
          throw new CallbackError(error);
        }
      }
    };
    try {
      for await (const page of this.client.searchPaginated(search.baseDN, {
        ...options,
        paged: { pageSize: search.pageSize },
      }))
        deliver(page);
    } catch (error) {
      if (error instanceof CallbackError) throw error.cause;
      throw searchError(error, this.client.isConnected);
    }
  }

  async close(): Promise<void> {
    const timer = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([this.client.unbind().catch(() => undefined), timer]);
  }
}

/** A search's failure as the port names it; errors of its own (a size limit, a callback's) as they are. */
function searchError(error: unknown, stillConnected: boolean): Error {
  if (error instanceof LdapSizeLimitExceededError || error instanceof LdapConnectionLostError) return error;
  if (isSizeLimitExceeded(error))
    return new LdapSizeLimitExceededError(`LDAP search ended at a size limit: ${(error as Error).message}`);
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message))
    return new LdapUnavailableError('LDAP search failed: no answer in time', { cause: error });
  if (!stillConnected) return new LdapConnectionLostError(`LDAP search failed: ${message}`, { cause: error });
  return new LdapUnavailableError(`LDAP search failed: ${message}`, { cause: error });
}

/** An error the caller's onEntry threw: handed back as it was, not as a directory fault. */
class CallbackError extends Error {
  constructor(override readonly cause: unknown) {
    super('onEntry failed');
  }
}

/** An entry's attributes as ldapts gives them: each type as sent, its values as text or bytes. */
function attributesOf(raw: Entry): [string, (string | Buffer)[]][] {
  const attributes: [string, (string | Buffer)[]][] = [];
  for (const type in raw) {
    if (type === 'dn') continue;
    const value = raw[type] as string | Buffer | (string | Buffer)[];
    const values = Array.isArray(value) ? value : [value];
    // ldapts lists requested attributes the entry lacks, with no value: the entry has no such attribute.
    if (values.length > 0) attributes.push([type, values]);
  }
  return attributes;
}

/** Attribute names lower-cased, `;binary` dropped, ranged attributes kept under their own name. */
function normalise(raw: Entry): EntryWithRanges {
  const entry: DirectoryEntry = { dn: raw.dn, attributes: new Map() };
  const ranges: EntryWithRanges['ranges'] = [];
  for (const [type, values] of attributesOf(raw)) {
    const range = parseRange(type);
    if (range && range.end !== '*') ranges.push(range);
    appendValues(entry, range?.name ?? type.toLowerCase(), values);
  }
  return { entry, ranges };
}

function appendValues(entry: DirectoryEntry, description: string, values: (string | Buffer)[]) {
  const name = description.replace(/;binary$/, '');
  const existing = entry.attributes.get(name);
  const attribute = existing instanceof LazyAttribute ? existing : new LazyAttribute();
  attribute.add(values);
  entry.attributes.set(name, attribute);
}

/**
 * Values as text and as bytes, each made from the other on first use: text attributes come decoded, and
 * only identifier attributes are read as bytes, so neither is converted for nothing.
 */
class LazyAttribute implements DirectoryAttribute {
  private readonly raw: (string | Buffer)[] = [];
  private text: string[] | undefined;
  private bytes: Buffer[] | undefined;

  add(values: (string | Buffer)[]): void {
    this.raw.push(...values);
    this.text = undefined;
    this.bytes = undefined;
  }

  get values(): string[] {
    this.text ??= this.raw.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value));
    return this.text;
  }

  get buffers(): Buffer[] {
    this.bytes ??= this.raw.map((value) => (Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8')));
    return this.bytes;
  }
}

export function toLdaptsFilter(filter: DirectoryFilter): Filter {
  switch (filter.kind) {
    case 'equals':
      return new EqualityFilter({ attribute: filter.attribute, value: filter.value });
    case 'atLeast':
      return new GreaterThanEqualsFilter({ attribute: filter.attribute, value: filter.value });
    case 'and':
      return new AndFilter({ filters: filter.filters.map(toLdaptsFilter) });
    case 'or':
      return new OrFilter({ filters: filter.filters.map(toLdaptsFilter) });
    case 'configured':
      return FilterParser.parseString(filter.text);
  }
}
