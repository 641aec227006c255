import request from 'supertest';
import { generatePeopleLdif, generatedUid, standardDirectory } from '../../../harness/fixtures';
import { Slapd } from '../../../harness/slapd';
import type { Directory, DirectorySession, LdapConnectionSettings } from '../../../lib/ldap/directory';
import { LdaptsDirectory } from '../../../lib/ldap/ldapts-directory';
import type { LdapPoolOptions } from '../../../lib/ldap/pooled-directory';
import { silentLogger } from '../../../lib/logger';
import { snapshotDatabase } from '../../helpers/database';
import { withSearch } from '../../helpers/directories';
import {
  ADMIN_HEADERS,
  SYNC_URL,
  ldapSettings,
  setSettings,
  startTestHost,
  type TestHost,
} from '../../helpers/host';

const PEOPLE = 20;
const LDAP_TIMEOUT_MS = 1500;

/** The real adapter; remembers every connection it opened (each is a TCP connection and a bind on slapd). */
class RecordingDirectory implements Directory {
  readonly opened: DirectorySession[] = [];
  private readonly real = new LdaptsDirectory(silentLogger);
  private allOpen: () => void = () => undefined;
  private readonly barrier: Promise<void>;

  /** With `searchesWaitFor`, searches start only once that many connections have been opened. */
  constructor(private readonly searchesWaitFor = 0) {
    this.barrier = new Promise((resolve) => {
      this.allOpen = resolve;
    });
  }

  async open(settings: LdapConnectionSettings): Promise<DirectorySession> {
    const session = await this.real.open(settings);
    this.opened.push(session);
    if (this.searchesWaitFor === 0) return session;
    if (this.opened.length >= this.searchesWaitFor) this.allOpen();
    return withSearch(session, async (search, onEntry) => {
      await this.barrier;
      await session.search(search, onEntry);
    });
  }
}

describe('pooled LDAP connections', () => {
  let slapd: Slapd;
  let host: TestHost;
  let unpooledHost: TestHost;
  const directory = new RecordingDirectory();
  const unpooledDirectory = new RecordingDirectory();
  let next = 0;
  /** A user not synced before: the sync must read the directory and write. */
  const freshUser = () => ({ usernames: [generatedUid(next++)] });

  const sync = (target: TestHost, body: object) =>
    request(target.app).post(SYNC_URL).set(ADMIN_HEADERS).send(body);
  const settings = (overrides: Record<string, unknown> = {}) => ({
    ...ldapSettings(),
    LDAP_Host: '127.0.0.1',
    LDAP_Port: slapd.port,
    LDAP_Timeout: LDAP_TIMEOUT_MS,
    LDAP_Connect_Timeout: 1000,
    ...overrides,
  });
  const useSettings = (overrides: Record<string, unknown> = {}) =>
    Promise.all([host, unpooledHost].map((target) => setSettings(target.models, settings(overrides))));

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: PEOPLE })] });
    host = await startTestHost({ directory, settingsCacheTtlMs: 0, seedSettings: false });
    unpooledHost = await startTestHost({
      directory: unpooledDirectory,
      ldapPool: false,
      settingsCacheTtlMs: 0,
      seedSettings: false,
    });
    await useSettings();
    for (const target of [host, unpooledHost]) {
      await target.models.users.insertMany(
        Array.from({ length: PEOPLE }, (_, index) => ({
          _id: `id-${index}`,
          username: generatedUid(index),
          active: true,
          ldap: true,
        })),
      );
    }
  });
  afterEach(async () => {
    if (!slapd.running) await slapd.resume();
    slapd.thaw();
  });
  afterAll(async () => {
    await host?.close();
    await unpooledHost?.close();
    await slapd?.stop();
  });

  it('serves consecutive syncs over one bound connection, and without the pool opens one per sync', async () => {
    const opened = directory.opened.length;
    const unpooledOpened = unpooledDirectory.opened.length;
    for (let round = 0; round < 3; round += 1) {
      const body = freshUser();
      expect((await sync(host, body)).body.summary).toMatchObject({ updated: 1 });
      expect((await sync(unpooledHost, body)).body.summary).toMatchObject({ updated: 1 });
    }
    expect(directory.opened.length - opened).toBe(1);
    expect(unpooledDirectory.opened.length - unpooledOpened).toBe(3);
    expect(unpooledDirectory.opened.every((session) => !session.connected)).toBe(true);
  });

  it('replaces a pooled connection the server closed (slapd restarted between syncs)', async () => {
    expect((await sync(host, freshUser())).status).toBe(200);
    await slapd.stopProcess('SIGTERM');
    await slapd.resume();
    const opened = directory.opened.length;
    const response = await sync(host, freshUser());
    expect(response.status).toBe(200);
    expect(response.body.summary).toMatchObject({ updated: 1 });
    expect(directory.opened.length - opened).toBe(1);
  });

  it('answers 503 when slapd is down, even with a pooled connection at hand', async () => {
    expect((await sync(host, freshUser())).status).toBe(200);
    await slapd.stopProcess('SIGKILL');
    const before = await snapshotDatabase(host.connection);
    const response = await sync(host, freshUser());
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ success: false, error: 'error-ldap-unavailable' });
    expect(await snapshotDatabase(host.connection)).toBe(before);
  });

  it('answers 503 within LDAP_Timeout when slapd freezes under a pooled connection (no second wait)', async () => {
    expect((await sync(host, freshUser())).status).toBe(200);
    await slapd.freeze();
    const started = Date.now();
    const response = await sync(host, freshUser());
    const elapsed = Date.now() - started;
    slapd.thaw();
    expect(response.status).toBe(503);
    expect(elapsed).toBeGreaterThanOrEqual(LDAP_TIMEOUT_MS);
    expect(elapsed).toBeLessThan(2 * LDAP_TIMEOUT_MS);
    expect((await sync(host, freshUser())).status).toBe(200);
  });

  it('never reuses a connection opened under other settings', async () => {
    expect((await sync(host, freshUser())).status).toBe(200);
    const opened = directory.opened.length;
    await useSettings({ LDAP_Authentication_Password: 'not-the-password' });
    expect((await sync(host, freshUser())).status).toBe(503);
    await useSettings();
    expect((await sync(host, freshUser())).status).toBe(200);
    // The refused bind opened nothing usable; the good settings found their pooled connection again.
    expect(directory.opened.length - opened).toBe(0);
  });

  /** A host of its own on this slapd, with the given pool, holding one synced person (generatedUid(0)). */
  const hostWithOnePerson = async (directory: Directory, ldapPool: Partial<LdapPoolOptions>) => {
    const own = await startTestHost({ directory, ldapPool, settingsCacheTtlMs: 0, seedSettings: false });
    await setSettings(own.models, settings());
    await own.models.users.create({ _id: 'u-0', username: generatedUid(0), active: true, ldap: true });
    return own;
  };

  it('keeps at most maxIdle connections once a burst of concurrent syncs is over', async () => {
    // Every search waits until six connections are open, so the six syncs really overlap.
    const burstDirectory = new RecordingDirectory(6);
    const small = await hostWithOnePerson(burstDirectory, { maxIdle: 2, maxOpen: 6 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => sync(small, { usernames: [generatedUid(0)] })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      expect(burstDirectory.opened).toHaveLength(6);
      expect(burstDirectory.opened.filter((session) => session.connected)).toHaveLength(2);
    } finally {
      await small.close();
    }
  });

  it('opens at most maxOpen connections per server and account; a sync beyond it waits up to LDAP_Timeout', async () => {
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstSearching: () => void = () => undefined;
    const firstStarted = new Promise<void>((resolve) => {
      firstSearching = resolve;
    });
    const holding = new RecordingDirectory();
    const holdingFirst: Directory = {
      open: async (connectionSettings) => {
        const session = await holding.open(connectionSettings);
        if (holding.opened.length > 1) return session;
        return withSearch(session, async (search, onEntry) => {
          firstSearching();
          await firstHeld;
          await session.search(search, onEntry);
        });
      },
    };
    const capped = await hostWithOnePerson(holdingFirst, { maxOpen: 1 });
    try {
      const first = sync(capped, { usernames: [generatedUid(0)] }).then((answer) => answer);
      // The only connection is now held by the first sync's search.
      await firstStarted;
      const started = Date.now();
      const second = await sync(capped, { usernames: [generatedUid(0)] });
      expect(second.status).toBe(503);
      expect(second.body.error).toBe('error-ldap-unavailable');
      expect(Date.now() - started).toBeGreaterThanOrEqual(LDAP_TIMEOUT_MS - 50);
      expect(holding.opened).toHaveLength(1);
      releaseFirst();
      expect((await first).status).toBe(200);
      expect((await sync(capped, { usernames: [generatedUid(0)] })).status).toBe(200);
      expect(holding.opened).toHaveLength(1);
    } finally {
      await capped.close();
    }
  });

  it('serves a burst of concurrent syncs through maxOpen connections', async () => {
    const counting = new RecordingDirectory();
    const capped = await hostWithOnePerson(counting, { maxOpen: 2 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => sync(capped, { usernames: [generatedUid(0)] })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      expect(counting.opened.length).toBeLessThanOrEqual(2);
    } finally {
      await capped.close();
    }
  });

  it('closes its idle connections when the host closes the module', async () => {
    expect((await sync(host, freshUser())).status).toBe(200);
    expect(directory.opened.some((session) => session.connected)).toBe(true);
    await host.sync.close();
    expect(directory.opened.some((session) => session.connected)).toBe(false);
  });
});
