// A real TCP proxy for fault injection: tests point a producer or reader at `proxy.url`, then cut
// every live connection with `dropConnections()` (both sockets destroyed, as when a network dies),
// or refuse new ones with `pause()` until `resume()`, or stop reading what the relay sends with
// `holdReplies()` (the relay's writes pile up behind a full TCP window) until `releaseReplies()`.
import net from 'node:net';

export interface TcpProxy extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Number of connections accepted so far. */
  readonly accepted: number;
  /** Destroys every live connection on both sides. */
  dropConnections(): number;
  /** New connections are destroyed at once until `resume()`. */
  pause(): void;
  resume(): void;
  /** Stops reading from the upstream side of every connection, new ones included, until `releaseReplies()`. */
  holdReplies(): void;
  releaseReplies(): void;
  /** Points new connections at another upstream port. */
  setTarget(port: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  let target = targetPort;
  let paused = false;
  let accepted = 0;
  let holding = false;
  const live = new Set<net.Socket>();
  const pairs = new Set<{ upstream: net.Socket; downstream: net.Socket }>();
  const hold = ({ upstream, downstream }: { upstream: net.Socket; downstream: net.Socket }) => {
    upstream.unpipe(downstream);
    upstream.pause();
  };
  const server = net.createServer((downstream) => {
    accepted++;
    if (paused) {
      downstream.destroy();
      return;
    }
    const upstream = net.connect(target, host);
    live.add(downstream);
    live.add(upstream);
    const pair = { upstream, downstream };
    pairs.add(pair);
    const teardown = () => {
      pairs.delete(pair);
      live.delete(downstream);
      live.delete(upstream);
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    if (holding) hold(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TcpProxy = {
    url: `http://${host}:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    dropConnections() {
      const count = live.size / 2;
      for (const socket of [...live]) socket.destroy();
      live.clear();
      return count;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    holdReplies() {
      holding = true;
      for (const pair of pairs) hold(pair);
    },
    releaseReplies() {
      holding = false;
      for (const { upstream, downstream } of pairs) upstream.pipe(downstream);
    },
    setTarget(port: number) {
      target = port;
    },
    async close() {
      proxy.dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]() {
      return proxy.close();
    },
  };
  return proxy;
}
