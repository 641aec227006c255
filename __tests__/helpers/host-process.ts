// A host in a process of its own (the router in a bare Express app on a loopback port), for tests that need
// two hosts on one database. Run as a script it serves; imported, it starts one and talks to it.
import express from 'express';
import mongoose from 'mongoose';
import { startTsProcess } from '../../harness/ts-process';
import { createRouter } from '../../lib/create-router';
import { silentLogger } from '../../lib/logger';

export interface HostProcessConfig {
  mongoUri: string;
  dbName: string;
  license: string;
  publicKey: string;
}

export interface HostProcess {
  baseUrl: string;
  stop(): Promise<void>;
}

export async function startHostProcess(config: HostProcessConfig): Promise<HostProcess> {
  const host = await startTsProcess(__filename, {
    env: { ...process.env, TEST_HOST_CONFIG: JSON.stringify(config) },
    ready: /^READY (\d+)$/,
  });
  return {
    baseUrl: `http://127.0.0.1:${host.readyLine[1]}`,
    async stop() {
      host.child.stdin?.end();
      await host.exited;
    },
  };
}

async function serve() {
  const config = JSON.parse(process.env.TEST_HOST_CONFIG ?? '{}') as HostProcessConfig;
  const connection = await mongoose.createConnection(config.mongoUri, { dbName: config.dbName }).asPromise();
  const sync = await createRouter({
    connection,
    license: { license: config.license, publicKey: config.publicKey },
    logger: silentLogger,
    rateLimit: false,
  });
  const app = express();
  app.use('/api/v1', sync.router);
  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.stdin.on('end', () => {
    server.close();
    void Promise.allSettled([sync.close(), connection.close()]).then(() => process.exit(0));
  });
  process.stdin.resume();
}

if (require.main === module) {
  serve().catch((error: unknown) => {
    process.stderr.write(`host process failed: ${String(error)}\n`);
    process.exit(1);
  });
}
