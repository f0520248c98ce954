/**
 * The systems under test: how to start each one's server processes. Each start is fresh (its own
 * process, its own redis-server), so runs never share state.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, startServer } from './lib/processes.js';
import { startRedis } from './lib/redis-server.js';

export type SystemId = 'relay-memory' | 'relay-sse' | 'relay-http' | 'relay-redis' | 'relay-redis-2' | 'durable-streams' | 'resumable-stream' | 'resumable-stream-http' | 'socketio-1' | 'socketio-64' | 'socketio-relay' | 'redis-xadd';

/** The API key the relay is started with. */
export const API_KEY = 'bench-api-key';

/** A started system. */
export interface RunningSystem {
  /** The server's URL (HTTP), or Redis's for Redis-only systems. */
  url: string;
  /** The Redis URL, for systems that use one. */
  redisUrl?: string;
  /** Where readers connect, when not at `url` (two relays: producers on one, readers on the other). */
  readerUrl?: string;
  /** The main server process (the one whose memory is reported). */
  main: ServerProcess;
  /** Every server process (CPU is summed over them). */
  servers: ServerProcess[];
  /** CPU seconds used by every server process. */
  cpu(): number;
  stop(): Promise<void>;
}

/** A system under test. */
export interface System {
  id: SystemId;
  label: string;
  /** Node flags for the main server process (for `--profile`). */
  start(nodeArgs?: string[]): Promise<RunningSystem>;
}

const require = createRequire(import.meta.url);
const relayCli = join(dirname(require.resolve('@ss/relay/package.json')), 'dist', 'cli.js');
const here = dirname(fileURLToPath(import.meta.url));

function running(url: string, servers: ServerProcess[], redisUrl?: string): RunningSystem {
  return {
    url,
    redisUrl,
    main: servers[0]!,
    servers,
    cpu: () => servers.reduce((sum, server) => sum + server.cpu(), 0),
    async stop() {
      for (const server of servers) await server.stop();
    },
  };
}

/** What every server here prints once it listens (ss-relay, and the scripts in `servers/`). */
const LISTENING = /listening on (http:\/\/\S+)/;

/** One of this package's server scripts (`dist/servers/<script>`), alone. */
async function startServerScript(name: string, script: string, nodeArgs: string[]): Promise<RunningSystem> {
  const server = await startServer(name, process.execPath, [...nodeArgs, join(here, 'servers', script)], LISTENING);
  return running(server.url, [server]);
}

/** A redis-server alone (the peers and the floor that are a Redis client in the load generator). */
async function startRedisAlone(): Promise<RunningSystem> {
  const redis = await startRedis();
  return running(redis.url, [redis], redis.url);
}

function startRelayProcess(nodeArgs: string[], redis: ServerProcess | undefined): Promise<ServerProcess> {
  // The idle scenario holds 2 × 10,000 streams on one producer connection, past the default
  // per-connection quota (10,000): lift that one limit (0 = none) for the benchmark.
  const args = [...nodeArgs, relayCli, '--port', '0', '--host', '127.0.0.1', '--api-key', API_KEY, '--max-open-streams-per-connection', '0'];
  if (redis) args.push('--redis', redis.url);
  return startServer('ss-relay', process.execPath, args, LISTENING);
}

async function startRelay(nodeArgs: string[], redis: ServerProcess | undefined): Promise<RunningSystem> {
  const relay = await startRelayProcess(nodeArgs, redis);
  return running(relay.url, redis ? [relay, redis] : [relay], redis?.url);
}

/** Starts a redis-server, then `start` on it; stops the redis-server again when `start` fails. */
async function onFreshRedis(start: (redis: ServerProcess) => Promise<RunningSystem>): Promise<RunningSystem> {
  const redis = await startRedis();
  try {
    return await start(redis);
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

export const SYSTEMS: Record<SystemId, System> = {
  'relay-memory': {
    id: 'relay-memory',
    label: 'ss-relay (memory)',
    start: (nodeArgs = []) => startRelay(nodeArgs, undefined),
  },
  'relay-sse': {
    id: 'relay-sse',
    label: 'ss-relay (memory; readers over SSE)',
    start: (nodeArgs = []) => startRelay(nodeArgs, undefined),
  },
  'relay-http': {
    id: 'relay-http',
    label: 'ss-relay (memory; HTTP producer)',
    start: (nodeArgs = []) => startRelay(nodeArgs, undefined),
  },
  'relay-redis': {
    id: 'relay-redis',
    label: 'ss-relay (Redis)',
    start: (nodeArgs = []) => onFreshRedis((redis) => startRelay(nodeArgs, redis)),
  },
  'relay-redis-2': {
    id: 'relay-redis-2',
    label: 'ss-relay ×2 (Redis; written on A, read on B)',
    start: (nodeArgs = []) =>
      onFreshRedis(async (redis) => {
        const writer = await startRelayProcess(nodeArgs, redis);
        const reader = await startRelayProcess([], redis).catch(async (error: unknown) => {
          await writer.stop();
          throw error;
        });
        return { ...running(writer.url, [writer, reader, redis], redis.url), readerUrl: reader.url };
      }),
  },
  'durable-streams': {
    id: 'durable-streams',
    label: 'Durable Streams (Node server, memory)',
    start: (nodeArgs = []) => startServerScript('durable-streams', 'durable-streams-server.js', nodeArgs),
  },
  'resumable-stream': {
    id: 'resumable-stream',
    label: 'resumable-stream (Redis)',
    start: startRedisAlone,
  },
  'resumable-stream-http': {
    id: 'resumable-stream-http',
    label: 'resumable-stream (Redis; HTTP SSE route)',
    // The app server (the recipe's POST and resume routes) and its redis-server: CPU of both.
    start: (nodeArgs = []) =>
      onFreshRedis(async (redis) => {
        const script = join(here, 'servers', 'resumable-stream-http-server.js');
        const app = await startServer('resumable-stream-http', process.execPath, [...nodeArgs, script, '--redis', redis.url], LISTENING);
        return running(app.url, [app, redis], redis.url);
      }),
  },
  'socketio-1': {
    id: 'socketio-1',
    label: 'floor: Socket.IO ack, 1 msg/emit',
    start: (nodeArgs = []) => startServerScript('socketio-floor', 'socketio-floor-server.js', nodeArgs),
  },
  'socketio-64': {
    id: 'socketio-64',
    label: 'floor: Socket.IO ack, 64 msgs/emit',
    start: (nodeArgs = []) => SYSTEMS['socketio-1'].start(nodeArgs),
  },
  'socketio-relay': {
    id: 'socketio-relay',
    label: 'floor: Socket.IO re-emit, no store',
    start: (nodeArgs = []) => SYSTEMS['socketio-1'].start(nodeArgs),
  },
  'redis-xadd': {
    id: 'redis-xadd',
    label: 'floor: Redis XADD, pipelined',
    start: startRedisAlone,
  },
};
