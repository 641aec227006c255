// The changed-entries feed: latency from a directory write to the user's eviction being visible in MongoDB,
// and the cost of an idle feed on the whole directory (the host's CPU per poll, slapd's search per poll),
// with the change-time indexes docs/feed.md names and, for comparison, without them.
import { performance } from 'node:perf_hooks';
import ldap from 'ldapjs';
import { generatedUid, generatePeopleLdif, standardDirectory } from '../harness/fixtures';
import { Slapd } from '../harness/slapd';
import type { FeedSearch } from '../lib/feed/change-feed';
import { TimestampChangeFeed } from '../lib/feed/timestamp-change-feed';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import type { Directory, DirectorySession } from '../lib/ldap/directory';
import { silentLogger } from '../lib/logger';
import type { Models } from '../models';
import { DIRECTORY_SIZE, directoryAttributes, userId } from './data';
import { totalCpuMs } from './process-cpu';

/** Changes timed (at least 50 for the figures; the smoke test asks for fewer). */
const CHANGES = Number(process.env.BENCH_FEED_CHANGES ?? 60);
const IDLE_WINDOW_MS = Number(process.env.BENCH_FEED_IDLE_SECONDS ?? 20) * 1000;
const INTERVAL_SECONDS = 2;
const ROOM = 'bench-feed-room';

export interface FeedHost {
  /** The host process, whose CPU time the idle measurement reads. */
  pid: number;
}

/** Users in department dept-0 (index % 50 === 0), past those the workloads and full runs change. */
const feedUsers = () =>
  Array.from({ length: CHANGES }, (_, k) => Math.max(0, DIRECTORY_SIZE - 3000) + 50 * k);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], share: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * share) - 1)]!;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function measureFeed(models: Models, slapd: Slapd, host: FeedHost, log: (line: string) => void) {
  const users = feedUsers();
  await models.rooms.collection.insertOne({
    _id: ROOM as never,
    t: 'p',
    name: 'feed-bench',
    usersCount: users.length,
    abacAttributes: [{ key: 'department', values: ['dept-0'] }],
  });
  for (const index of users) {
    await models.users.collection.updateOne(
      { _id: userId(index) as never },
      { $set: { abacAttributes: directoryAttributes(index), __rooms: [ROOM] } },
    );
  }
  await models.subscriptions.collection.insertMany(
    users.map((index) => ({
      _id: `feed-${index}`,
      rid: ROOM,
      u: { _id: userId(index), username: generatedUid(index) },
    })) as never[],
  );
  // Set over the documents the module registered at start.
  await models.settings.collection.bulkWrite(
    Object.entries({
      ABAC_Sync_Change_Feed_Enabled: true,
      ABAC_Sync_Change_Feed_Interval_Seconds: INTERVAL_SECONDS,
    }).map(([_id, value]) => ({
      updateOne: { filter: { _id: _id as never }, update: { $set: { value } }, upsert: true },
    })),
  );
  log(
    `Feed: waiting for the first poll to find where ${DIRECTORY_SIZE.toLocaleString('en')} entries stand...`,
  );
  const enabledAt = performance.now();
  const state = () => models.feedState.findOne().lean();
  for (;;) {
    if ((await state())?.position) break;
    if (performance.now() - enabledAt > 180_000) throw new Error('the feed did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const startSeconds = (performance.now() - enabledAt) / 1000;

  log(`Feed: idle for ${IDLE_WINDOW_MS / 1000} s...`);
  await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_SECONDS * 1000));
  const info = slapd.info();
  const polls = new Set<number>();
  const [hostCpu0, slapdCpu0] = [totalCpuMs(host.pid), totalCpuMs(info.pid)];
  const idleStarted = performance.now();
  while (performance.now() - idleStarted < IDLE_WINDOW_MS) {
    const lastPoll = (await state())?.lastPollAt;
    if (lastPoll) polls.add(lastPoll.getTime());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  const hostCpuMs = totalCpuMs(host.pid) - hostCpu0;
  const slapdCpuMs = totalCpuMs(info.pid) - slapdCpu0;
  // The first one seen may have begun before the window.
  const pollCount = Math.max(1, polls.size - 1);

  const position = (await state())!.position!;
  const indexed = await idleSearch(slapd, position);

  log(`Feed: ${CHANGES} directory changes, ~0.5 s apart...`);
  const latencies = await measureLatency(slapd, models, users);

  log('Feed: the same idle read on a directory without the change-time indexes...');
  const bare = await Slapd.start({
    ldif: [...standardDirectory(), generatePeopleLdif({ count: DIRECTORY_SIZE })],
    changeTimeIndexes: false,
  });
  let withoutIndexes: Awaited<ReturnType<typeof idleSearch>>;
  try {
    const session = await openSession(bare);
    const start = await new TimestampChangeFeed().start(session, feedSearch(bare));
    await session.close();
    withoutIndexes = await idleSearch(bare, start!);
  } finally {
    await bare.stop();
  }

  return {
    intervalSeconds: INTERVAL_SECONDS,
    firstPollSeconds: round(startSeconds),
    latencyMs: {
      changes: latencies.length,
      p50: Math.round(median(latencies)),
      p95: Math.round(percentile(latencies, 0.95)),
      max: Math.round(Math.max(...latencies)),
    },
    idle: {
      seconds: round(idleSeconds),
      polls: pollCount,
      hostCpuMsPerPoll: round(hostCpuMs / pollCount),
      hostCpuShareOfOneCore: round((hostCpuMs / (idleSeconds * 1000)) * 100, 2),
      slapdCpuMsPerPoll: round(slapdCpuMs / pollCount),
      slapdCpuShareOfOneCore: round((slapdCpuMs / (idleSeconds * 1000)) * 100, 2),
      searchMs: indexed,
      searchMsWithoutIndexes: withoutIndexes,
    },
  };
}

function feedSearch(slapd: Slapd): FeedSearch {
  return {
    users: {
      baseDN: slapd.info().baseDN,
      scope: 'sub',
      userFilter: '(objectClass=inetOrgPerson)',
      identifierAttributes: ['uid'],
    },
    pageSize: 250,
  };
}

/** A session bound as the directory's service account, as the product's settings bind (via `port`: a proxy). */
export function openSession(
  slapd: Slapd,
  port = slapd.info().port,
  directory: Directory = new LdaptsDirectory(silentLogger),
): Promise<DirectorySession> {
  const info = slapd.info();
  return directory.open({
    hosts: ['127.0.0.1'],
    port,
    encryption: 'plain',
    caCertPem: undefined,
    rejectUnauthorized: true,
    connectTimeoutMs: 5000,
    operationTimeoutMs: 60_000,
    bind: { dn: info.serviceDN, password: info.servicePassword },
  });
}

/** One idle poll's read, repeated: its time, and slapd's CPU for it. */
async function idleSearch(slapd: Slapd, position: { watermark: string; appliedAtWatermark: string[] }) {
  const session = await openSession(slapd);
  const feed = new TimestampChangeFeed();
  const search = feedSearch(slapd);
  const times: number[] = [];
  try {
    await feed.read(session, search, position);
    const cpu0 = totalCpuMs(slapd.info().pid);
    for (let read = 0; read < 20; read += 1) {
      const started = performance.now();
      await feed.read(session, search, position);
      times.push(performance.now() - started);
    }
    return {
      median: round(median(times)),
      p95: round(percentile(times, 0.95)),
      slapdCpuMs: round((totalCpuMs(slapd.info().pid) - cpu0) / times.length),
    };
  } finally {
    await session.close();
  }
}

/** Moves each user out of dept-0 in turn and times until their subscription to the dept-0 room is gone. */
async function measureLatency(slapd: Slapd, models: Models, users: number[]): Promise<number[]> {
  const info = slapd.info();
  const client = ldap.createClient({ url: info.url });
  await new Promise<void>((resolve, reject) =>
    client.bind(info.adminDN, info.adminPassword, (error) => (error ? reject(error) : resolve())),
  );
  const pending = new Map<number, number>();
  const latencies: number[] = [];
  let writing = true;
  const watcher = (async () => {
    while (writing || pending.size > 0) {
      if (pending.size > 0) {
        const left = new Set(
          (
            await models.subscriptions.collection
              .find(
                { _id: { $in: [...pending.keys()].map((index) => `feed-${index}`) } as never },
                {
                  projection: { _id: 1 },
                },
              )
              .toArray()
          ).map(({ _id }) => String(_id)),
        );
        const now = performance.now();
        for (const [index, writtenAt] of pending)
          if (!left.has(`feed-${index}`)) {
            latencies.push(now - writtenAt);
            pending.delete(index);
          }
        if (pending.size > 0 && now - Math.min(...pending.values()) > 60_000)
          throw new Error('a change was not applied within 60 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    for (const index of users) {
      await new Promise<void>((resolve, reject) =>
        client.modify(
          `uid=${generatedUid(index)},ou=people,${info.baseDN}`,
          new ldap.Change({
            operation: 'replace',
            modification: new ldap.Attribute({ type: 'departmentNumber', values: ['feed-moved'] }),
          }),
          (error) => (error ? reject(error) : resolve()),
        ),
      );
      pending.set(index, performance.now());
      // Spread over the poll interval, so the changes land at every point of it.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
    }
  } finally {
    writing = false;
    await watcher;
    client.unbind();
  }
  return latencies;
}
