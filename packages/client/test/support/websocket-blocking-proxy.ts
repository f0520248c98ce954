// An HTTP proxy in front of the relay that refuses every WebSocket upgrade (403), as a corporate
// proxy does, and passes plain HTTP through, streaming (SSE included). `dropConnections()` cuts
// every live proxied connection.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface BlockingProxy {
  readonly url: string;
  /** WebSocket upgrades refused so far. */
  readonly upgradesRefused: number;
  /** Requests passed through, by path (without the query). */
  readonly paths: string[];
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startWebSocketBlockingProxy(targetPort: number): Promise<BlockingProxy> {
  let upgradesRefused = 0;
  const paths: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((request, response) => {
    paths.push((request.url ?? '').split('?')[0]!);
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        response.flushHeaders();
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    response.on('close', () => upstream.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (_request, socket) => {
    upgradesRefused++;
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get upgradesRefused() {
      return upgradesRefused;
    },
    paths,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
