// A loopback TCP proxy in front of slapd that holds every chunk the client sends for a millisecond: a
// directory one round trip of about 1 ms away, where a per-user loop pays per user and a batched read pays
// per chunk of users.
import net from 'node:net';

export class DelayedProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
  ) {}

  static async start(targetPort: number, delayMs = 1): Promise<DelayedProxy> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      // Timers of one delay fire in the order they were set: the bytes keep their order.
      client.on('data', (chunk) => setTimeout(() => upstream.write(chunk), delayMs));
      upstream.on('data', (chunk) => client.write(chunk));
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      for (const socket of [client, upstream]) {
        socket.on('close', end);
        socket.on('error', end);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new DelayedProxy(server, sockets, (server.address() as net.AddressInfo).port);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
