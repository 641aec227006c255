import { connect } from 'node:net';

/** Resolves once something accepts TCP connections on host:port, or rejects after the deadline. */
export async function waitForPort(host: string, port: number, deadlineMs: number, isAlive: () => boolean) {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < deadlineMs) {
    if (!isAlive()) throw new Error(`the process meant to listen on ${host}:${port} exited`);
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port }, () => {
          socket.end();
          resolve();
        });
        socket.once('error', reject);
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`nothing listened on ${host}:${port} within ${deadlineMs} ms: ${String(lastError)}`);
}

/** Resolves once `condition` holds (checked every 2 ms), or rejects after the deadline. */
export async function waitFor(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > deadlineMs)
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
