/**
 * The systems under test: how to start each one's server processes. Each start is fresh (its own
 * process, its own redis-server), so runs never share state.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, startServer } from './lib/processes.js';
import { startRedis } from './lib/redis-server.js';

export type SystemId = 'relay-memory' | 'relay-redis' | 'durable-streams' | 'resumable-stream' | 'socketio-1' | 'socketio-64' | 'redis-xadd';

/** The API key the relay is started with. */
export const API_KEY = 'bench-api-key';

/** A started system. */
export interface RunningSystem {
  /** The server's URL (HTTP), or Redis's for Redis-only systems. */
  url: string;
  /** The Redis URL, for systems that use one. */
  redisUrl?: string;
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

async function startRelay(nodeArgs: string[], redis: ServerProcess | undefined): Promise<RunningSystem> {
  const args = [...nodeArgs, relayCli, '--port', '0', '--host', '127.0.0.1', '--api-key', API_KEY];
  if (redis) args.push('--redis', redis.url);
  const relay = await startServer('ss-relay', process.execPath, args, /listening on (http:\/\/\S+)/);
  return running(relay.url, redis ? [relay, redis] : [relay], redis?.url);
}

export const SYSTEMS: Record<SystemId, System> = {
  'relay-memory': {
    id: 'relay-memory',
    label: 'ss-relay (memory)',
    start: (nodeArgs = []) => startRelay(nodeArgs, undefined),
  },
  'relay-redis': {
    id: 'relay-redis',
    label: 'ss-relay (Redis)',
    async start(nodeArgs = []) {
      const redis = await startRedis();
      try {
        return await startRelay(nodeArgs, redis);
      } catch (error) {
        await redis.stop();
        throw error;
      }
    },
  },
  'durable-streams': {
    id: 'durable-streams',
    label: 'Durable Streams (Node server, memory)',
    async start(nodeArgs = []) {
      const server = await startServer('durable-streams', process.execPath, [...nodeArgs, join(here, 'servers', 'durable-streams-server.js')], /listening on (http:\/\/\S+)/);
      return running(server.url, [server]);
    },
  },
  'resumable-stream': {
    id: 'resumable-stream',
    label: 'resumable-stream (Redis)',
    async start() {
      const redis = await startRedis();
      return running(redis.url, [redis], redis.url);
    },
  },
  'socketio-1': {
    id: 'socketio-1',
    label: 'floor: Socket.IO ack, 1 msg/emit',
    async start(nodeArgs = []) {
      const server = await startServer('socketio-floor', process.execPath, [...nodeArgs, join(here, 'servers', 'socketio-floor-server.js')], /listening on (http:\/\/\S+)/);
      return running(server.url, [server]);
    },
  },
  'socketio-64': {
    id: 'socketio-64',
    label: 'floor: Socket.IO ack, 64 msgs/emit',
    start: (nodeArgs = []) => SYSTEMS['socketio-1'].start(nodeArgs),
  },
  'redis-xadd': {
    id: 'redis-xadd',
    label: 'floor: Redis XADD, pipelined',
    async start() {
      const redis = await startRedis();
      return running(redis.url, [redis], redis.url);
    },
  },
};
