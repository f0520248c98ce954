/**
 * A TCP proxy that delays every byte by a fixed time in each direction: on loopback, where a round
 * trip costs a fraction of a millisecond and scheduling noise is of the same size, it makes round
 * trips countable (a 20 ms round trip dwarfs everything else).
 */
import net from 'node:net';

/** A running delay proxy. */
export interface DelayProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

function delayed(from: net.Socket, to: net.Socket, delayMs: number): void {
  // Equal delays keep the order: timers of the same duration fire in the order they were set.
  from.on('data', (data) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(data);
    }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
}

/**
 * Starts a proxy to `target` (an `http://host:port` URL) that adds `oneWayMs` each way.
 * @returns the proxy; its URL replaces the target's.
 */
export async function startDelayProxy(target: string, oneWayMs: number): Promise<DelayProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    delayed(client, upstream, oneWayMs);
    delayed(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
