// A host in a process of its own (the router in a bare Express app on a loopback port), for tests that need
// two hosts on one database. Run as a script it serves; imported, it starts one and talks to it.
import express from 'express';
import mongoose from 'mongoose';
import pino from 'pino';
import { startTsProcess } from '../../harness/ts-process';
import { createRouter, type AbacLdapSyncDeps } from '../../app/create-router';
import type { Directory } from '../../lib/ldap/directory';
import { LdaptsDirectory } from '../../lib/ldap/ldapts-directory';
import { silentLogger } from '../../lib/logger';
import type { RoomMemberRemover } from '../../lib/sync/room-member-remover';
import { createModels } from '../../models';
import { MongoRoomMemberRemover } from '../../mongo/room-member-remover';
import { withSearch } from './directories';

export interface HostProcessConfig {
  mongoUri: string;
  dbName: string;
  license: string;
  publicKey: string;
  jobRunner?: AbacLdapSyncDeps['jobRunner'];
  settingsCacheTtlMs?: number;
  /** The host's request limits (default: none). */
  rateLimit?: AbacLdapSyncDeps['rateLimit'];
  /** Slows every LDAP search and every room removal call down, so a test can act in the middle of a run. */
  delayMs?: number;
  /** Log lines (pino JSON, info and above) go to stderr, where onLogLine sees them. */
  onLogLine?: (line: string) => void;
}

export interface HostProcess {
  baseUrl: string;
  pid: number;
  stop(): Promise<void>;
  /** Ends the process at once (SIGKILL): nothing of it runs to its end. */
  kill(): Promise<void>;
}

export async function startHostProcess({ onLogLine, ...config }: HostProcessConfig): Promise<HostProcess> {
  const host = await startTsProcess(__filename, {
    env: { ...process.env, TEST_HOST_CONFIG: JSON.stringify({ ...config, log: !!onLogLine }) },
    ready: /^READY (\d+)$/,
    onStderrLine: onLogLine,
  });
  return {
    baseUrl: `http://127.0.0.1:${host.readyLine[1]}`,
    pid: host.child.pid!,
    async stop() {
      host.child.stdin?.end();
      await host.exited;
    },
    async kill() {
      host.child.kill('SIGKILL');
      await host.exited;
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function slowDirectory(real: Directory, delayMs: number): Directory {
  return {
    open: async (settings) => {
      const session = await real.open(settings);
      return withSearch(session, async (search, onEntry) => {
        await pause(delayMs);
        await session.search(search, onEntry);
      });
    },
  };
}

function slowRemover(real: RoomMemberRemover, delayMs: number): RoomMemberRemover {
  return {
    remove: async (removals) => {
      if (removals.length > 0) await pause(delayMs);
      return real.remove(removals);
    },
  };
}

async function serve() {
  const config = JSON.parse(process.env.TEST_HOST_CONFIG ?? '{}') as HostProcessConfig & { log: boolean };
  const connection = await mongoose.createConnection(config.mongoUri, { dbName: config.dbName }).asPromise();
  const logger = config.log ? pino({ level: 'info' }, pino.destination(2)) : silentLogger;
  const delayMs = config.delayMs ?? 0;
  const models = createModels(connection);
  const sync = await createRouter({
    connection,
    license: { license: config.license, publicKey: config.publicKey },
    logger,
    rateLimit: config.rateLimit ?? false,
    metricsRegistry: false,
    ...(config.jobRunner !== undefined ? { jobRunner: config.jobRunner } : {}),
    ...(config.settingsCacheTtlMs !== undefined ? { settingsCacheTtlMs: config.settingsCacheTtlMs } : {}),
    ...(delayMs > 0
      ? {
          directory: slowDirectory(new LdaptsDirectory(logger), delayMs),
          memberRemover: slowRemover(
            new MongoRoomMemberRemover({ ...models, clock: { now: Date.now } }),
            delayMs,
          ),
        }
      : {}),
  });
  const app = express();
  app.use('/api/v1', sync.router);
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.stdin.on('end', () => {
    server.close();
    // The module first, then its connection, as a host is told to (closing both at once would cut a run
    // short by its database instead of by close()).
    void sync
      .close()
      .finally(() => connection.close())
      .finally(() => process.exit(0));
  });
  process.stdin.resume();
}

if (require.main === module) {
  serve().catch((error: unknown) => {
    process.stderr.write(`host process failed: ${String(error)}\n`);
    process.exit(1);
  });
}
