// A small TCP load balancer for failover tests: new connections go round-robin to the targets;
// a target that refuses the connection (a dead relay) is skipped, as a load balancer with
// passive health checks does. Nothing is sticky: a client that reconnects may land anywhere.
import net from 'node:net';

export interface TcpBalancer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Connections accepted, per target port. */
  readonly connectionsByTarget: ReadonlyMap<number, number>;
  /** Destroys every live connection on both sides. */
  dropConnections(): number;
  close(): Promise<void>;
}

/**
 * Starts a round-robin TCP balancer in front of `targetPorts` on `host`.
 * @param targetPorts - the upstream ports, tried in turn.
 * @param host - where the upstreams (and the balancer) listen. Default 127.0.0.1.
 * @returns the balancer; `close()` it when done.
 */
export async function startTcpBalancer(targetPorts: readonly number[], host = '127.0.0.1'): Promise<TcpBalancer> {
  let turn = 0;
  const live = new Set<net.Socket>();
  const connectionsByTarget = new Map<number, number>();
  const server = net.createServer((downstream) => {
    downstream.pause();
    live.add(downstream);
    downstream.on('error', () => downstream.destroy());
    downstream.on('close', () => live.delete(downstream));
    const attempt = (triesLeft: number) => {
      const port = targetPorts[turn++ % targetPorts.length]!;
      const upstream = net.connect(port, host);
      upstream.once('error', () => {
        upstream.destroy();
        if (downstream.destroyed) return;
        if (triesLeft > 1) attempt(triesLeft - 1);
        else downstream.destroy();
      });
      upstream.once('connect', () => {
        if (downstream.destroyed) {
          upstream.destroy();
          return;
        }
        connectionsByTarget.set(port, (connectionsByTarget.get(port) ?? 0) + 1);
        live.add(upstream);
        const teardown = () => {
          live.delete(upstream);
          live.delete(downstream);
          upstream.destroy();
          downstream.destroy();
        };
        upstream.on('error', teardown).on('close', teardown);
        downstream.on('close', teardown);
        downstream.pipe(upstream);
        upstream.pipe(downstream);
        downstream.resume();
      });
    };
    attempt(targetPorts.length);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const balancer: TcpBalancer = {
    url: `http://${host}:${port}`,
    port,
    connectionsByTarget,
    dropConnections() {
      const count = live.size;
      for (const socket of [...live]) socket.destroy();
      live.clear();
      return count;
    },
    async close() {
      balancer.dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]() {
      return balancer.close();
    },
  };
  return balancer;
}
