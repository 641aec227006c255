import type { EventEmitter } from 'node:events';
import ldap, { type Client, type SearchEntry } from 'ldapjs';
import { LdapConnectionLostError, LdapSizeLimitExceededError, LdapUnavailableError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type {
  Directory,
  DirectoryEntry,
  DirectorySearch,
  DirectorySession,
  DirectoryStats,
  LdapConnectionSettings,
} from '../lib/ldap/directory';
import type { DirectoryFilter } from '../lib/ldap/filter';
import { dnString } from './dn-string';
import { openFirstReachable, tlsOptions } from '../lib/ldap/reachable-host';
import {
  deliverWhole,
  parseRange,
  rangeSearch,
  readRemainingRanges,
  type AttributeRange,
  type EntryWithRanges,
} from '../lib/ldap/ranged-attributes';

type LdapjsFilter = InstanceType<typeof ldap.EqualityFilter>;

/**
 * The directory port on ldapjs 3, as the product read the directory until it moved to ldapts (ldapjs is
 * decommissioned): kept as the benchmark's baseline client, and held to the same contract by its tests.
 */
export class LdapjsDirectory implements Directory {
  constructor(private readonly logger: Logger) {}

  open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    return openFirstReachable(settings, this.logger, (url, host) => openSession(url, host, settings));
  }
}

async function openSession(
  url: string,
  host: string,
  settings: LdapConnectionSettings,
): Promise<DirectorySession> {
  const client = await connect(url, host, settings);
  try {
    if (settings.encryption === 'tls') {
      await withTimeout(settings.operationTimeoutMs, client, 'StartTLS', (done) =>
        client.starttls(tlsOptions(host, settings), [], done),
      );
    }
    if (settings.bind) {
      const { dn, password } = settings.bind;
      await withTimeout(settings.operationTimeoutMs, client, 'bind', (done) =>
        client.bind(dn, password, done),
      );
    }
  } catch (error) {
    client.destroy();
    throw error;
  }
  return new LdapjsSession(client, settings.operationTimeoutMs);
}

function connect(url: string, host: string, settings: LdapConnectionSettings): Promise<Client> {
  return new Promise((resolve, reject) => {
    // queueDisable: requests fail at once while disconnected instead of waiting in a queue whose
    // timeout does not work; reconnect stays off so a dead server never holds a request.
    const client = ldap.createClient({
      url,
      tlsOptions: settings.encryption === 'ssl' ? tlsOptions(host, settings) : undefined,
      connectTimeout: settings.connectTimeoutMs,
      timeout: settings.operationTimeoutMs,
      queueDisable: true,
      reconnect: false,
    });
    // Without an 'error' listener a refused connection would crash the process.
    client.on('error', () => undefined);
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timer = setTimeout(
      () => fail(new Error(`connect timed out after ${settings.connectTimeoutMs} ms`)),
      settings.connectTimeoutMs,
    );
    client.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(client);
    });
    client.once('connectError', fail);
    client.once('setupError', fail);
    client.once('connectTimeout', () => fail(new Error('connect timed out')));
    client.once('error', fail);
  });
}

function withTimeout(
  timeoutMs: number,
  client: Client,
  operation: string,
  start: (done: (error: Error | null) => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`${operation} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    start((error) => {
      clearTimeout(timer);
      if (error) reject(new Error(`${operation} failed: ${error.name}: ${error.message}`));
      else resolve();
    });
  });
}

class ConnectionLost extends Error {}

/** LDAP result code 4 (RFC 4511). */
const SIZE_LIMIT_EXCEEDED = 4;

function isSizeLimitExceeded(error: Error): boolean {
  return (
    (error as { code?: unknown }).code === SIZE_LIMIT_EXCEEDED || error.name === 'SizeLimitExceededError'
  );
}

class LdapjsSession implements DirectorySession {
  readonly stats: DirectoryStats = { searchRoundTrips: 0, entries: 0, references: 0 };

  constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {}

  get connected(): boolean {
    return (this.client as unknown as { connected: boolean }).connected;
  }

  keepProcessAlive(keep: boolean): void {
    const socket = (this.client as unknown as { _socket?: { ref(): void; unref(): void } | null })._socket;
    if (keep) socket?.ref();
    else socket?.unref();
  }

  /**
   * Entries whose attributes came in ranges (Active Directory's `memberOf;range=0-1499`) are held until the
   * remaining ranges are read with base searches on the entry, then delivered whole.
   */
  async search(search: DirectorySearch, onEntry: (entry: DirectoryEntry) => void): Promise<void> {
    await deliverWhole(
      (onRaw) => this.searchOnce(search, onRaw),
      normalise,
      (held) => this.readRemainingRanges(held),
      onEntry,
    );
  }

  private readRemainingRanges({ entry, ranges }: EntryWithRanges): Promise<void> {
    return readRemainingRanges(
      ranges,
      async (description) => {
        const sent: [string, SearchEntry['attributes'][number]][] = [];
        await this.searchOnce(rangeSearch(entry.dn, description), (raw) => {
          for (const attribute of raw.attributes) sent.push([attribute.type, attribute]);
        });
        return sent;
      },
      (name, attribute) => appendValues(entry, name, attribute),
    );
  }

  private searchOnce(search: DirectorySearch, onEntry: (entry: SearchEntry) => void): Promise<void> {
    const filter = toLdapjsFilter(search.filter);
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout;
      const finish = (error?: Error, fromOurCode = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error && fromOurCode) reject(error);
        else if (error && isSizeLimitExceeded(error))
          reject(new LdapSizeLimitExceededError(`LDAP search ended at a size limit: ${error.message}`));
        else if (error && (error.name === 'ConnectionError' || error instanceof ConnectionLost))
          reject(new LdapConnectionLostError(`LDAP search failed: ${error.message}`, { cause: error }));
        else if (error)
          reject(new LdapUnavailableError(`LDAP search failed: ${error.message}`, { cause: error }));
        else resolve();
      };
      // The timeout covers each round trip: it restarts whenever a page arrives.
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          // Settle first: destroying the client makes the response emit its own events.
          finish(new Error(`no answer within ${this.timeoutMs} ms`));
          this.client.destroy();
        }, this.timeoutMs);
      };
      arm();
      this.stats.searchRoundTrips += 1;
      this.client.search(
        search.baseDN,
        {
          scope: search.scope,
          filter,
          attributes: search.attributes,
          sizeLimit: search.sizeLimit,
          // The server gives up when the client would (ldapjs would ask for 10 s whatever LDAP_Timeout says).
          timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)),
          // A server answers a page size at or above the size limit in one page without the paged
          // control (RFC 2696), which ldapjs's pager reports as an error: ask for no paging then.
          paged:
            search.sizeLimit > 0 && search.pageSize >= search.sizeLimit
              ? false
              : { pageSize: search.pageSize, pagePause: false },
        },
        (error, response) => {
          if (error) return finish(error);
          response.on('searchEntry', (entry: SearchEntry) => {
            this.stats.entries += 1;
            try {
              onEntry(entry);
            } catch (callbackError) {
              finish(callbackError instanceof Error ? callbackError : new Error(String(callbackError)), true);
            }
          });
          const countReference = () => {
            this.stats.references += 1;
          };
          // ldapjs's pager forwards entries but not references: those reach its inner emitter only.
          response.on('searchReference', countReference);
          (response as unknown as { childEmitter?: EventEmitter }).childEmitter?.on(
            'searchReference',
            countReference,
          );
          response.on('page', (_result: unknown, next?: () => void) => {
            arm();
            if (next) this.stats.searchRoundTrips += 1;
          });
          response.on('error', (searchError: Error) => finish(searchError));
          response.on('end', (result: { status: number } | null) => {
            // No result means the connection closed before the server said the search was done.
            if (!result) finish(new ConnectionLost('the connection closed before the search finished'));
            else if (result.status === SIZE_LIMIT_EXCEEDED)
              finish(Object.assign(new Error('sizeLimitExceeded'), { code: SIZE_LIMIT_EXCEEDED }));
            else if (result.status !== 0) finish(new Error(`search ended with LDAP result ${result.status}`));
            else finish();
          });
        },
      );
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, 1000);
      try {
        this.client.unbind(() => {
          clearTimeout(timer);
          this.client.destroy();
          resolve();
        });
      } catch {
        clearTimeout(timer);
        this.client.destroy();
        resolve();
      }
    });
  }
}

/** Attribute names lower-cased, `;binary` dropped, ranged attributes kept under their own name. */
function normalise(raw: SearchEntry): EntryWithRanges {
  // The DN alone: the entry's `pojo` would also copy every attribute, only for this to read its name.
  const entry: DirectoryEntry = { dn: dnString(raw.objectName), attributes: new Map() };
  const ranges: AttributeRange[] = [];
  for (const attribute of raw.attributes) {
    const range = parseRange(attribute.type);
    if (range && range.end !== '*') ranges.push(range);
    appendValues(entry, range?.name ?? attribute.type.toLowerCase(), attribute);
  }
  return { entry, ranges };
}

function appendValues(
  entry: DirectoryEntry,
  description: string,
  attribute: SearchEntry['attributes'][number],
) {
  const name = description.replace(/;binary$/, '');
  const buffers = (attribute as unknown as { buffers: Buffer[] }).buffers;
  const existing = entry.attributes.get(name) ?? { values: [], buffers: [] };
  for (const buffer of buffers) {
    existing.buffers.push(buffer);
    existing.values.push(buffer.toString('utf8'));
  }
  entry.attributes.set(name, existing);
}

export function toLdapjsFilter(filter: DirectoryFilter): LdapjsFilter {
  switch (filter.kind) {
    case 'equals':
      return typeof filter.value === 'string'
        ? new ldap.EqualityFilter({ attribute: filter.attribute, value: filter.value })
        : new ldap.EqualityFilter({ attribute: filter.attribute, raw: filter.value } as never);
    case 'atLeast':
      return new ldap.GreaterThanEqualsFilter({
        attribute: filter.attribute,
        value: filter.value,
      }) as unknown as LdapjsFilter;
    case 'and':
      return new ldap.AndFilter({ filters: filter.filters.map(toLdapjsFilter) }) as unknown as LdapjsFilter;
    case 'or':
      return new ldap.OrFilter({ filters: filter.filters.map(toLdapjsFilter) }) as unknown as LdapjsFilter;
    case 'configured':
      return ldap.parseFilter(filter.text) as unknown as LdapjsFilter;
  }
}
