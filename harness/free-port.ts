import { createServer } from 'node:net';

/** Asks the kernel for a free loopback port. The caller binds it right away; a lost race fails loudly. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the kernel gave'));
      });
    });
  });
}
