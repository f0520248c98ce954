// A real Redis Cluster for tests: three `redis-server` masters (no replicas) on free ports, each
// with its own data directory and cluster config file in one fresh temporary directory, joined
// with `redis-cli --cluster create`. Never the system Redis. `stop()` kills every node and removes
// the directory.
//
// When redis-server or redis-cli is missing: under CI (`CI=true`) `startRedisCluster` throws a
// clear message, so the tests fail; elsewhere the cluster suites skip
// (`describe.skipIf(redisClusterMissing)`), exactly as for the single `redis-server`.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { exited, freePort, isCi, ping, redisServerBinary } from './redis-server.js';
import { until } from './until.js';

/** The redis-cli binary: `REDIS_CLI_BIN`, else `redis-cli` from the PATH. */
const cliBinary = process.env.REDIS_CLI_BIN ?? 'redis-cli';
const run = promisify(execFile);

function answers(binary: string): boolean {
  const probe = spawnSync(binary, ['--version'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

const found = answers(redisServerBinary) && answers(cliBinary);

/**
 * True when the cluster suites should be skipped: no redis-server or redis-cli here and not in CI.
 * Under CI a missing binary is a failure, never a skip.
 */
export const redisClusterMissing = !found && !isCi;

/** One master of the test cluster. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisCluster extends AsyncDisposable {
  /** The three masters, as ioredis `Cluster` startup nodes. */
  readonly nodes: readonly RedisClusterNode[];
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, as `ss-relay --redis-cluster` takes it. */
  readonly nodeList: string;
  /** The temporary directory holding every node's data directory. */
  readonly dir: string;
  /** The port of the master serving `key`'s hash slot (asks a running node). */
  portOf(key: string): Promise<number>;
  /**
   * Fresh stream ids, `perNode` on each master (their keys `ss:{<id>}:…` hash there), in the order
   * of `nodes`, each with the port of its master.
   */
  idsOnEveryNode(label: string, perNode?: number): Promise<Array<{ id: string; port: number }>>;
  /** SIGKILLs the node on `port` (a crash), or every node when no port is given. */
  kill(port?: number): Promise<void>;
  /**
   * Starts the killed node on `port` (every killed node when no port is given) on the same ports,
   * directory and cluster config, so it rejoins as itself (with no data: nothing is persisted), and
   * waits until every node reports `cluster_state:ok`.
   */
  start(port?: number): Promise<void>;
  /** Kills every node and removes the directory. */
  stop(): Promise<void>;
}

const NODE_COUNT = 3;
/** Makes the ids of `idsOnEveryNode` unique across calls (and clusters) in one test process. */
let idCounter = 0;

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** `CLUSTER INFO` of the node on `port`, or '' when it does not answer. */
async function clusterInfo(port: number): Promise<string> {
  const connection = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  connection.on('error', () => {});
  try {
    await connection.connect();
    return String(await connection.cluster('INFO'));
  } catch {
    return '';
  } finally {
    connection.disconnect();
  }
}

/**
 * Starts a private three-master Redis Cluster on free ports and waits until every node reports
 * `cluster_state:ok`.
 * @returns the cluster; `stop()` it (or `await using`) when done.
 * @example
 * ```ts
 * const cluster = await startRedisCluster()
 * const client = new Cluster([...cluster.nodes])
 * ```
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  if (!found) {
    throw new Error(
      `redis-server or redis-cli was not found ("${redisServerBinary}" / "${cliBinary}" --version failed). The Redis Cluster ` +
        "tests need both: install Debian's packages (apt-get install -y redis-server redis-tools) or set REDIS_SERVER_BIN and REDIS_CLI_BIN.",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'ss-redis-cluster-'));
  /** Running nodes by port. */
  const children = new Map<number, ChildProcess>();
  /** Cluster bus port and data directory of each node, by port. */
  const homes = new Map<number, { busPort: number; nodeDir: string }>();
  let log = '';

  const killNode = async (port: number) => {
    const child = children.get(port);
    children.delete(port);
    child?.kill('SIGKILL');
    if (child) await exited(child);
  };
  const stop = async () => {
    await Promise.all([...children.keys()].map(killNode));
    rmSync(dir, { recursive: true, force: true });
  };

  /** Starts the node of `port`; false when it did not answer PING. */
  const launch = async (port: number): Promise<boolean> => {
    const { busPort, nodeDir } = homes.get(port)!;
    mkdirSync(nodeDir, { recursive: true });
    const args = [
      '--port', String(port),
      '--cluster-port', String(busPort), // the default (port + 10000) may be above 65535 or taken
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(nodeDir, 'nodes.conf'),
      '--dir', nodeDir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ];
    const child = spawn(redisServerBinary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(port, child);
    child.stdout!.on('data', (data) => (log += data));
    child.stderr!.on('data', (data) => (log += data));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      if (await ping(port)) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  };

  let ports: number[] = [];
  const allOk = async () => (await Promise.all(ports.map(clusterInfo))).every((info) => info.includes('cluster_state:ok'));
  const waitAllOk = () =>
    until(allOk, `cluster_state:ok on every node of the Redis Cluster on ports ${ports.join(', ')}`, 20_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${log}`);
    });

  try {
    for (let attempt = 0; ; attempt++) {
      const picked = await freePorts(NODE_COUNT * 2);
      ports = picked.slice(0, NODE_COUNT);
      for (const [index, port] of ports.entries()) homes.set(port, { busPort: picked[NODE_COUNT + index]!, nodeDir: join(dir, `node-${port}`) });
      const started = await Promise.all(ports.map(launch));
      if (started.every(Boolean)) break;
      // A port was taken between the pick and the start: start over with new ones.
      await Promise.all(ports.map(killNode));
      if (attempt === 4) throw new Error(`redis-server did not start in cluster mode on ports ${ports.join(', ')}:\n${log}`);
    }

    const addresses = ports.map((port) => `127.0.0.1:${port}`);
    try {
      await run(cliBinary, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli --cluster create failed: ${(error as Error).message}\n${stdout}${stderr}\n${log}`);
    }
    await waitAllOk();

    const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
    const cluster: RedisCluster = {
      nodes,
      nodeList: addresses.join(','),
      dir,
      async portOf(key) {
        const running = ports.find((port) => children.has(port));
        if (running === undefined) throw new Error('no node of the Redis Cluster is running');
        const admin = new Redis({ host: '127.0.0.1', port: running, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        try {
          const slot = Number(await admin.cluster('KEYSLOT', key));
          const ranges = await admin.cluster('SLOTS');
          const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
          if (!master) throw new Error(`no node serves slot ${slot}`);
          return Number(master[1]);
        } finally {
          admin.disconnect();
        }
      },
      async idsOnEveryNode(label, perNode = 1) {
        const byPort = new Map<number, string[]>(ports.map((port) => [port, []]));
        while ([...byPort.values()].some((ids) => ids.length < perNode)) {
          const id = `${label}-${process.pid}-${idCounter++}`;
          const ids = byPort.get(await cluster.portOf(`ss:{${id}}:meta`))!;
          if (ids.length < perNode) ids.push(id);
        }
        return ports.flatMap((port) => byPort.get(port)!.map((id) => ({ id, port })));
      },
      async kill(port) {
        await Promise.all((port === undefined ? ports : [port]).map(killNode));
      },
      async start(port) {
        const starting = (port === undefined ? ports : [port]).filter((candidate) => !children.has(candidate));
        const started = await Promise.all(starting.map(launch));
        if (!started.every(Boolean)) throw new Error(`a Redis Cluster node did not start again:\n${log}`);
        await waitAllOk();
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
    return cluster;
  } catch (error) {
    await stop();
    throw error;
  }
}
