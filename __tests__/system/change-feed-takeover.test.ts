import mongoose, { type Connection } from 'mongoose';
import { generatePeopleLdif, generatedDepartment, generatedUid, readFixture } from '../../harness/fixtures';
import { Slapd } from '../../harness/slapd';
import { testServers } from '../../harness/test-servers';
import { ATTRIBUTE_CHANGED_EVENT } from '../../lib/sync/audit-events';
import { createModels, ensureIndexes, type Models } from '../../models';
import { reportFigure } from '../helpers/figures';
import { ldapSettings, licenseKeys, makeLicense, setSettings } from '../helpers/host';
import { startHostProcess, type HostProcess, type HostProcessConfig } from '../helpers/host-process';
import { FAST_RUNNER } from '../helpers/jobs';
import { changeAsAdmin } from '../helpers/ldap-admin';

// The changed-entries feed across two host processes on one database: exactly one consumer; 500 entries
// changed at once, the consumer killed while applying them, the other process taking over from the
// watermark: every change applied, none twice.

const PEOPLE = 500;
const userId = (index: number) => `id-${String(index).padStart(4, '0')}`;
/** Each LDAP search and room removal is slowed, so the consumer can be killed while applying. */
const DELAY_MS = 40;
const RUNNER = { ...FAST_RUNNER };
const TAKEOVER_BOUND_MS = RUNNER.lockLifetimeMs + RUNNER.processEveryMs + 2000;

describe('the changed-entries feed across two host processes', () => {
  let slapd: Slapd;
  let connection: Connection;
  let models: Models;
  let config: HostProcessConfig;
  let hosts: HostProcess[] = [];

  const feedState = () => models.feedState.findOne().lean();

  /** 500 ldapmodify operations at once: every person's department becomes `department`. */
  function moveEveryone(department: string) {
    const info = slapd.info();
    return changeAsAdmin(
      info,
      Array.from({ length: PEOPLE }, (_, index) => ({
        dn: `uid=${generatedUid(index)},ou=people,${info.baseDN}`,
        operation: 'replace' as const,
        type: 'departmentNumber',
        values: [department],
      })),
    );
  }

  async function until<T>(what: string, withinMs: number, probe: () => Promise<T | undefined | false>) {
    const started = Date.now();
    for (;;) {
      const found = await probe();
      if (found) return { found, ms: Date.now() - started };
      if (Date.now() - started > withinMs) throw new Error(`${what}: not within ${withinMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    slapd = await Slapd.start({ ldif: [readFixture('base.ldif'), generatePeopleLdif({ count: PEOPLE })] });
    const dbName = `t_feed_takeover_${process.pid}_${Date.now() % 100000}`;
    connection = await mongoose.createConnection(testServers().mongo.uri, { dbName }).asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    await models.users.insertMany(
      Array.from({ length: PEOPLE }, (_, index) => ({
        _id: userId(index),
        username: generatedUid(index),
        active: true,
        ldap: true,
        abacAttributes: [{ key: 'department', values: [generatedDepartment(index)] }],
      })),
    );
    const info = slapd.info();
    await setSettings(models, {
      ...ldapSettings(),
      LDAP_Host: '127.0.0.1',
      LDAP_Port: info.port,
      LDAP_BaseDN: info.baseDN,
      LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department' }),
      ABAC_Sync_Change_Feed_Enabled: true,
      ABAC_Sync_Change_Feed_Interval_Seconds: 1,
      // Every user here loses a value on purpose: the feed's guard is tested on its own (change-feed.test.ts).
      ABAC_Sync_Guard_Max_Revoked_Percent: 100,
    });
    config = {
      mongoUri: testServers().mongo.uri,
      dbName,
      license: makeLicense(),
      publicKey: licenseKeys.publicKeyPem,
      jobRunner: RUNNER,
      settingsCacheTtlMs: 100,
      delayMs: DELAY_MS,
    };
    hosts = await Promise.all([startHostProcess(config), startHostProcess(config)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop()));
    await connection?.dropDatabase();
    await connection?.close();
    await slapd?.stop();
  });

  it('has one consumer; killed while applying 500 changes, the other takes over and applies each once', async () => {
    const { found: started } = await until('the feed started', 20_000, async () => {
      const state = await feedState();
      return state?.position && state.consumer ? state : undefined;
    });
    // One consumer: every poll for a while comes from the same process.
    const consumers = new Set<string>();
    for (let poll = 0; poll < 10; poll += 1) {
      consumers.add((await feedState())!.consumer!);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(consumers).toEqual(new Set([started.consumer]));

    await moveEveryone('moved');

    await until(
      'the consumer applying',
      30_000,
      async () => ((await feedState())?.changesApplied ?? 0) >= 100,
    );
    const consumerIndex = hosts.findIndex((host) => started.consumer!.endsWith(`:${host.pid}`));
    expect(consumerIndex).toBeGreaterThanOrEqual(0);
    const [dead] = hosts.splice(consumerIndex, 1);
    const survivor = hosts[0]!;
    const killedAt = Date.now();
    await dead!.kill();
    const appliedWhenKilled = (await feedState())!.changesApplied;
    expect(appliedWhenKilled).toBeLessThan(PEOPLE);

    await until('the takeover', TAKEOVER_BOUND_MS + 5000, async () =>
      (await feedState())?.consumer?.endsWith(`:${survivor.pid}`),
    );
    const takeoverMs = Date.now() - killedAt;
    reportFigure(
      'feed consumer killed: taken over after',
      `${takeoverMs} ms (bound ${TAKEOVER_BOUND_MS} ms)`,
    );
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);

    await until(
      'every change applied',
      60_000,
      async () => ((await feedState())?.changesApplied ?? 0) >= PEOPLE,
    );
    expect((await feedState())!.changesApplied).toBe(PEOPLE);
    expect(await models.users.countDocuments({ 'abacAttributes.values': 'moved' })).toBe(PEOPLE);
    // Each change audited once, although a batch was cut short and applied again.
    const events = await models.serverEvents.find({ t: ATTRIBUTE_CHANGED_EVENT }).lean();
    expect(events).toHaveLength(PEOPLE);
    expect(
      new Set(events.map((event) => JSON.stringify(event.data.find(({ key }) => key === 'subject')))).size,
    ).toBe(PEOPLE);
    reportFigure('feed: 500 changes applied across a takeover', `${appliedWhenKilled} before the kill`);
  }, 120_000);

  it('applies 500 entries changed at once within 10 s of the last write (1 s interval, slowed directory)', async () => {
    const before = (await feedState())!.changesApplied;
    await moveEveryone('back');
    const written = Date.now();
    await until(
      '500 changes applied',
      10_000,
      async () =>
        (await models.users.countDocuments({ 'abacAttributes.values': 'back' })) === PEOPLE &&
        (await feedState())!.changesApplied >= before + PEOPLE,
    );
    reportFigure('feed: 500 entries changed at once, all applied after', `${Date.now() - written} ms`);
    expect((await feedState())!.changesApplied).toBe(before + PEOPLE);
  }, 60_000);
});
