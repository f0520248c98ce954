/** A private redis-server for one run: a free port, no persistence, never the system Redis. */
import net from 'node:net';
import { type ServerProcess, startServer } from './processes.js';

const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server on a free loopback port; its `url` is `redis://127.0.0.1:<port>`. */
export async function startRedis(): Promise<ServerProcess> {
  const port = await freePort();
  const server = await startServer(
    'redis-server',
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'],
    /()Ready to accept connections/,
  );
  return { ...server, url: `redis://127.0.0.1:${port}` };
}
