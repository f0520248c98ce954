// A real `redis-server` for tests: started on a free port in a fresh temporary directory, never
// the system Redis. `restart()` stops it gracefully and starts it again on the same port and data
// directory (with AOF on, acknowledged writes survive); `kill()` is SIGKILL (a crash).
//
// When redis-server is missing: under CI (`CI=true`) `startRedisServer` throws a clear message, so
// the tests fail; elsewhere the Redis suites skip (`describe.skipIf(redisServerMissing)`).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The redis-server binary: `REDIS_SERVER_BIN`, else `redis-server` from the PATH. */
export const redisServerBinary = process.env.REDIS_SERVER_BIN ?? 'redis-server';

function findRedisServer(): boolean {
  const probe = spawnSync(redisServerBinary, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

const found = findRedisServer();
/** Whether this is a CI run (`CI=true`), where a missing Redis fails the tests instead of skipping them. */
export const isCi = process.env.CI === 'true';

/**
 * True when the Redis suites should be skipped: no redis-server here and not in CI. Under CI a
 * missing redis-server is a failure, never a skip.
 */
export const redisServerMissing = !found && !isCi;

export interface RedisServerOptions {
  /** Turn AOF on (with `appendfsync always`, so every acknowledged write is on disk). Default false. */
  appendonly?: boolean;
}

export interface RedisServer extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** The temporary data directory. */
  readonly dir: string;
  /** Graceful shutdown (SIGTERM; AOF is flushed) and removal of the data directory. */
  stop(): Promise<void>;
  /** Graceful shutdown, then a start on the same port and directory. Resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGKILL: a crash. Start it again with `start()`. */
  kill(): Promise<void>;
  /** Starts it again after `kill()` (same port and directory). */
  start(): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on 127.0.0.1:`port` within half a second. */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      answer += data.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a private redis-server on a free port.
 * @param options - `appendonly` for durability tests.
 * @returns the server; `stop()` it (or `await using`) when done.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!found) {
    throw new Error(
      `redis-server was not found ("${redisServerBinary}" --version failed). The Redis tests need a real Redis: ` +
        'install Debian\'s package (apt-get install -y redis-server) or set REDIS_SERVER_BIN to its path.',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'ss-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<boolean> => {
    log = '';
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', options.appendonly ? 'yes' : 'no',
      '--appendfsync', 'always',
      '--dir', dir,
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const started = spawn(redisServerBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout!.on('data', (data) => (log += data));
    started.stderr!.on('data', (data) => (log += data));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (started.exitCode !== null || started.signalCode !== null) return false;
      if (await ping(port)) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    started.kill('SIGKILL');
    await exited(started);
    return false;
  };

  const start = async (reusePort: boolean) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!reusePort || port === 0) port = await freePort();
      if (await launch()) return;
    }
    throw new Error(`redis-server did not start on port ${port}:\n${log}`);
  };

  const shutdown = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running) return;
    running.kill(signal);
    await exited(running);
    child = undefined;
  };

  await start(false);
  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    async stop() {
      await shutdown('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await shutdown('SIGTERM');
      await start(true);
    },
    async kill() {
      await shutdown('SIGKILL');
    },
    async start() {
      await start(true);
    },
    [Symbol.asyncDispose]() {
      return server.stop();
    },
  };
  return server;
}
