import { EventEmitter } from 'node:events';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';

/** Reconnect attempts to one node before the Pub/Sub connection moves to another node. */
const ATTEMPTS_PER_NODE = 2;

/**
 * The Redis store's Pub/Sub connection on a Redis Cluster: one plain connection to one node of the
 * cluster (a classic `PUBLISH` reaches every node), moved to another node when its node stays
 * unreachable. Like an ioredis `Redis` with `autoResubscribe: false`, it emits `ready` after every
 * (re)connect and subscribes nothing by itself, so the store's feeds subscribe again and catch up
 * from the stored state. (ioredis's own cluster subscriber re-subscribes silently on another node:
 * whatever was published in between would be lost, an end included.)
 *
 * Events: `message (channel, message)`, `ready`, `error (error)`.
 *
 * @example
 * ```ts
 * const pubSub = new ClusterPubSub(cluster, { connectionName: 'ss-relay' })
 * pubSub.on('ready', () => void pubSub.subscribe('ss:{id}:events'))
 * ```
 */
export class ClusterPubSub extends EventEmitter {
  private connection: Redis | undefined;
  /** Node key (`host:port`) of the current or last connection. */
  private nodeKey: string | undefined;
  /** Nodes in a row that could not be reached: spaces out the next tries when the whole cluster is away. */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onClusterReady = () => this.connect();

  /**
   * @param cluster - the store's cluster client: where the node list comes from.
   * @param options - options of each node connection (auth, TLS, timeouts); host, port and retries are set here.
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly options: RedisOptions,
  ) {
    super();
    this.connect();
  }

  /** The current connection's status; `reconnecting` between two nodes, `end` once closed. */
  get status(): string {
    if (this.closed) return 'end';
    return this.connection?.status ?? 'reconnecting';
  }

  /** SUBSCRIBE on the current node; rejects while the connection is between two nodes (`ready` follows). */
  subscribe(...channels: string[]): Promise<unknown> {
    if (!this.connection) return Promise.reject(new Error('Pub/Sub connection is moving to another cluster node'));
    return this.connection.subscribe(...channels);
  }

  /** UNSUBSCRIBE on the current node (nothing to do between two nodes). */
  unsubscribe(...channels: string[]): Promise<unknown> {
    return this.connection ? this.connection.unsubscribe(...channels) : Promise.resolve(0);
  }

  /** Closes the connection for good. */
  disconnect(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.cluster.off('ready', this.onClusterReady);
    const connection = this.connection;
    this.connection = undefined;
    connection?.disconnect();
  }

  /** Connects to the node after the last one in the cluster's node list (any node once the list is known). */
  private connect(): void {
    if (this.closed || this.connection) return;
    const nodes = this.cluster.nodes('all');
    if (nodes.length === 0) {
      // The cluster client has not loaded the topology yet (or lost every node): wait for it.
      this.cluster.off('ready', this.onClusterReady);
      this.cluster.once('ready', this.onClusterReady);
      return;
    }
    const keys = nodes.map((node) => `${node.options.host}:${node.options.port}`);
    const last = this.nodeKey === undefined ? -1 : keys.indexOf(this.nodeKey);
    // Several relays start at different nodes; after a failure, the next node in the list.
    const index = last === -1 ? Math.floor(Math.random() * nodes.length) : (last + 1) % nodes.length;
    const node = nodes[index]!;
    this.nodeKey = keys[index];

    const connection = new Redis({
      ...this.options,
      host: node.options.host,
      port: node.options.port,
      lazyConnect: false,
      autoResubscribe: false,
      retryStrategy: (attempt) => (attempt <= ATTEMPTS_PER_NODE ? 100 * attempt : null),
    });
    this.connection = connection;
    connection.on('message', (channel: string, message: string) => this.emit('message', channel, message));
    connection.on('ready', () => {
      this.failures = 0;
      this.emit('ready');
    });
    connection.on('error', (error: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    connection.once('end', () => {
      // The node stayed unreachable (or the store closed): move on to the next node.
      if (this.closed || this.connection !== connection) return;
      this.connection = undefined;
      this.failures++;
      this.retryTimer = setTimeout(() => this.connect(), Math.min(100 * this.failures, 1000));
      this.retryTimer.unref();
    });
  }
}
