import type { EndReason, StreamInfo } from '@ss/core/protocol';
import { StreamstraightError } from '@ss/core/protocol';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { ThrottledLog } from '../internal/throttled-log.js';
import type { RelayLogger } from '../logger.js';
import { type ClusterNodes, parseClusterNodes } from './redis-cluster-nodes.js';
import { ClusterPubSub } from './redis-cluster-pubsub.js';
import { type FeedMeta, RedisFeeds } from './redis-feeds.js';
import { toStoreError } from './redis-errors.js';
import { SCRIPTS, type ScriptedClient } from './redis-scripts.js';
import {
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  type OpenMode,
  type OpenResult,
  type RetentionOptions,
  type StreamDescription,
  type StreamMetadata,
  type StreamStore,
  type TailAppendResult,
} from './stream-store.js';

/** Options of {@link redisStore}. Give `url`, `clusterNodes` or `client` (a `client` wins over the others). */
export interface RedisStoreOptions extends RetentionOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). The store owns this connection. */
  url?: string;
  /**
   * Seed nodes of a Redis Cluster, each `host:port` or `redis://[user:password@]host:port`
   * (`rediss://` for TLS); the client discovers the other nodes. The store owns this cluster client.
   */
  clusterNodes?: readonly string[];
  /**
   * An ioredis `Redis` or `Cluster` you own: the store uses it (plus one Pub/Sub connection of its
   * own, with the same credentials) and leaves it open on `close()`.
   */
  client?: Redis | Cluster;
  /** Prepended to every key and channel, so several relays' data (or other apps') can share one Redis. Default `ss:`. */
  keyPrefix?: string;
  /** How often this relay looks for open streams with no write for `inactivityTimeoutMs`. Default: a quarter of it, at most 5 s. */
  sweepIntervalMs?: number;
  /**
   * Notifications carry the chunks themselves when the new part of a frame is at most this many
   * bytes, so other relays need no read; larger frames send `{seq, count}` and readers' relays
   * fetch them with XRANGE. Default 64 KiB. `0` never inlines.
   */
  inlineNotifyMaxBytes?: number;
  /** A Redis command that gets no answer for this long fails with `STORE_UNAVAILABLE`. Default 10 s. */
  commandTimeoutMs?: number;
  /** Where connection errors go (error, at most one line per kind every 10 s). Default: nowhere (`health()` still reports them). */
  log?: RelayLogger;
}

/** Default of {@link RedisStoreOptions.keyPrefix}. */
export const DEFAULT_REDIS_KEY_PREFIX = 'ss:';
const DEFAULT_INLINE_NOTIFY_MAX_BYTES = 64 * 1024;
/** Candidates examined per sweep query; a sweep repeats until the backlog is cleared. */
const SWEEP_BATCH = 256;

const STATUSES = new Set(['open', 'ended']);
/** Cluster client states in which it has no node to send to: commands would wait in its offline queue. */
const CLUSTER_AWAY = new Set(['close', 'reconnecting', 'end']);

/** Rejects with "no answer within …" when `promise` has not settled after `timeoutMs`. */
function withTimeout<Value>(promise: Promise<Value>, timeoutMs: number, what: string): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer ${what} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A connection whose readiness {@link connected} can wait for: ioredis `Redis`, `Cluster`, or `ClusterPubSub`. */
interface Connection {
  readonly status: string;
  once(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** Whether `connection` is ready, waiting up to `timeoutMs` while it is still connecting. */
function connected(connection: Connection, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return Promise.resolve(true);
  if (!['wait', 'connecting', 'connect'].includes(connection.status)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      connection.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    connection.once('ready', onReady);
  });
}

/** Resolves once the cluster client's first connection attempt is over (ready or failed), or after `timeoutMs`. */
function firstAttempt(cluster: Cluster, timeoutMs: number): Promise<void> {
  if (cluster.status !== 'connecting' && cluster.status !== 'connect') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      cluster.off('ready', done);
      cluster.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    cluster.once('ready', done);
    cluster.once('close', done);
  });
}

/** The cluster client the store owns when given `clusterNodes`: the store's connection settings on every node. */
function clusterClient({ nodes, redisOptions }: ClusterNodes, connectionOptions: RedisOptions): Cluster {
  const { retryStrategy: _perConnection, ...nodeOptions } = connectionOptions;
  return new Cluster(nodes, {
    redisOptions: { ...nodeOptions, ...redisOptions },
    // Every node unreachable: the client reconnects for ever, like the single-Redis connection…
    clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    // …and meanwhile commands fail at once instead of waiting in a queue (as `maxRetriesPerRequest: 0`
    // does on one Redis); the store waits for the first connection itself.
    enableOfflineQueue: false,
  });
}

/**
 * What each seed node says when the cluster client cannot get ready — ioredis only reports "Failed
 * to refresh slots cache": `connect ECONNREFUSED …`, `ERR This instance has cluster support
 * disabled`, or its `cluster_state`.
 */
async function probeSeeds({ nodes, redisOptions }: ClusterNodes): Promise<string> {
  const answers = await Promise.all(
    nodes.map(async ({ host, port }) => {
      const connection = new Redis({ ...redisOptions, host, port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 1000 });
      // The connection's error event has the cause (ECONNREFUSED…); connect() rejects with "Connection is closed".
      let cause: Error | undefined;
      connection.on('error', (error: Error) => {
        cause ??= error;
      });
      try {
        await connection.connect();
        const info = await connection.cluster('INFO');
        return `${host}:${port} cluster_state:${/cluster_state:(\w+)/.exec(String(info))?.[1] ?? 'unknown'}`;
      } catch (error) {
        return `${host}:${port} ${(cause ?? (error as Error)).message}`;
      } finally {
        connection.disconnect();
      }
    }),
  );
  return answers.join('; ');
}

/**
 * The Redis Streams store: several relays share one Redis (or Redis Cluster), a reader may attach
 * to any relay, and a producer may fail over to any relay.
 *
 * Per stream id: a Redis stream `<prefix>{<id>}:chunks` (entry ID `<seq>-1`, field `d`) and a hash
 * `<prefix>{<id>}:meta` (status, endReason, lastSeq, lease, gen, lastWriteAt), both hash-tagged so
 * they share a cluster slot. Appends, opens and ends are Lua scripts (check the lease, drop the
 * stored prefix, refuse a gap, write, refresh the TTL, publish) — atomic, so a resend is never
 * stored twice. Live delivery uses one Pub/Sub connection per store and a channel per followed
 * stream. Any relay ends streams idle for `inactivityTimeoutMs` (a sorted set of open streams,
 * swept periodically), so no stream stays open after the relay that owned its producer died.
 *
 * On a Redis Cluster (`clusterNodes`, or a `Cluster` as `client`) the two global keys (lease
 * counter, open set) are only used by single-key commands, never in a script with a stream's keys,
 * so nothing is cross-slot; the Pub/Sub connection is a plain connection to one node that moves to
 * another node when its node goes away, and catches up after every reconnect.
 *
 * Errors: the `StreamStore` codes; Redis unreachable → `STORE_UNAVAILABLE` with `retryInMs`; a key
 * of a foreign type at a stream's key → `STREAM_CORRUPT` naming the key (that stream only).
 *
 * @param options - `url`, `clusterNodes` or `client`, `keyPrefix`, retention.
 * @returns the store; pass it to `createRelay({ store })`.
 * @example
 * ```ts
 * const relay = createRelay({ apiKeys: [key], store: redisStore({ url: 'redis://localhost:6379' }) })
 * const onCluster = redisStore({ clusterNodes: ['10.0.0.1:7000', '10.0.0.2:7000', '10.0.0.3:7000'] })
 * ```
 */
export function redisStore(options: RedisStoreOptions): StreamStore {
  const prefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (prefix.includes('{') || prefix.includes('}')) {
    throw new StreamstraightError('BAD_REQUEST', `redisStore: keyPrefix "${prefix}" must not contain "{" or "}" (the stream id is the hash tag).`);
  }
  if (!options.client && !options.url && !options.clusterNodes) {
    throw new StreamstraightError('BAD_REQUEST', 'redisStore needs a `url` (redis://host:port), `clusterNodes` ([\'host:port\', …]) or an ioredis `client`.');
  }
  if (!options.client && options.url && options.clusterNodes) {
    throw new StreamstraightError('BAD_REQUEST', 'redisStore takes a `url` (one Redis) or `clusterNodes` (a Redis Cluster), not both.');
  }
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const inactivityTimeoutMs = options.inactivityTimeoutMs ?? DEFAULT_INACTIVITY_TIMEOUT_MS;
  const inlineMax = options.inlineNotifyMaxBytes ?? DEFAULT_INLINE_NOTIFY_MAX_BYTES;
  const commandTimeout = options.commandTimeoutMs ?? 10_000;

  const connectionOptions: RedisOptions = {
    // Fail fast while Redis is away: a command waiting for a reconnect is failed at the next failed
    // attempt, so producers get STORE_UNAVAILABLE (and retry) instead of a hanging ack.
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    commandTimeout,
    connectionName: 'ss-relay',
  };
  const ownsClient = options.client === undefined;
  const seeds = options.client || !options.clusterNodes ? undefined : parseClusterNodes(options.clusterNodes);
  const client: Redis | Cluster = options.client ?? (seeds ? clusterClient(seeds, connectionOptions) : new Redis(options.url!, connectionOptions));
  // `isCluster` rather than `instanceof`: the caller's client may come from another copy of ioredis.
  const cluster = client.isCluster ? (client as Cluster) : undefined;
  const subscriber: Redis | ClusterPubSub = cluster
    ? new ClusterPubSub(cluster, { ...cluster.options.redisOptions, ...connectionOptions, commandTimeout: undefined })
    : (client as Redis).duplicate({ ...connectionOptions, autoResubscribe: false, commandTimeout: undefined });
  let lastError: Error | undefined;
  const throttledLog = options.log ? new ThrottledLog(options.log.child({ component: 'redis' })) : undefined;
  const rememberOf = (connection: string) => (error: Error) => {
    lastError = error;
    throttledLog?.write('error', `redis:${connection}`, { connection, err: error }, `Redis connection error: ${error.message}`);
  };
  const rememberCommandsError = rememberOf('commands');
  client.on('error', rememberCommandsError);
  subscriber.on('error', rememberOf('subscriber'));
  // A cluster client reports "Failed to refresh slots cache"; why (ECONNREFUSED…) comes from its nodes.
  let lastNodeError: string | undefined;
  const rememberNode = (error: Error, node: string) => {
    lastNodeError = `${node}: ${error.message}`;
  };
  cluster?.on('node error', rememberNode);
  const clusterTrouble = () => (lastError ? `${lastError.message}${lastNodeError ? ` (last node error ${lastNodeError})` : ''}` : 'no error reported yet');
  for (const [name, definition] of Object.entries(SCRIPTS)) client.defineCommand(name, definition);
  const scripted = client as unknown as ScriptedClient;

  const metaKey = (streamId: string) => `${prefix}{${streamId}}:meta`;
  const chunksKey = (streamId: string) => `${prefix}{${streamId}}:chunks`;
  const channelOf = (streamId: string) => `${prefix}{${streamId}}:events`;
  const openSetKey = `${prefix}open`;
  const leaseKey = `${prefix}lease`;

  const infoOf = (streamId: string, status: string, lastSeq: number, endReason: string): StreamInfo =>
    endReason === ''
      ? { streamId, status: status as StreamInfo['status'], lastSeq }
      : { streamId, status: status as StreamInfo['status'], lastSeq, endReason: endReason as EndReason };

  const readMeta = async (streamId: string): Promise<FeedMeta | undefined> => {
    const [status, lastSeq, endReason, gen] = await client.hmget(metaKey(streamId), 'status', 'lastSeq', 'endReason', 'gen');
    if (status === null || status === undefined) return undefined;
    if (!STATUSES.has(status) || lastSeq == null || gen == null) {
      throw new StreamstraightError(
        'STREAM_CORRUPT',
        `Stream "${streamId}" cannot be used: Redis key "${metaKey(streamId)}" holds a hash the relay did not write. Another program wrote there; delete the stream's keys or give the relay its own keyPrefix.`,
      );
    }
    return { info: infoOf(streamId, status, Number(lastSeq), endReason ?? ''), gen: Number(gen) };
  };

  /** A stream's state and metadata from its meta hash as HGETALL returns it (flat name, value, …). */
  const describeHash = (streamId: string, flat: readonly string[]): StreamDescription => {
    const hash = new Map<string, string>();
    for (let index = 0; index + 1 < flat.length; index += 2) hash.set(String(flat[index]), String(flat[index + 1]));
    const status = hash.get('status');
    const lastSeq = hash.get('lastSeq');
    if (status === undefined || !STATUSES.has(status) || lastSeq === undefined) {
      throw new StreamstraightError(
        'STREAM_CORRUPT',
        `Stream "${streamId}" cannot be used: Redis key "${metaKey(streamId)}" holds a hash the relay did not write. Another program wrote there; delete the stream's keys or give the relay its own keyPrefix.`,
      );
    }
    const metadata: StreamMetadata = {};
    for (const [field, value] of hash) if (field.startsWith('m:')) metadata[field.slice(2)] = value;
    return { info: infoOf(streamId, status, Number(lastSeq), hash.get('endReason') ?? ''), metadata };
  };

  const metadataArgs = (metadata: StreamMetadata | undefined): Array<string> => {
    const entries = Object.entries(metadata ?? {});
    return [String(entries.length), ...entries.flat()];
  };

  const read = async (streamId: string, fromSeq: number, limit: number): Promise<string[]> => {
    const from = Math.max(0, Math.floor(fromSeq));
    if (!(limit >= 1)) return [];
    const entries = await client.xrange(chunksKey(streamId), String(from), String(from + limit - 1), 'COUNT', limit);
    return entries.map(([, fields]) => fields[1] ?? '');
  };

  const feeds = new RedisFeeds(subscriber, {
    readMeta,
    channelOf,
    read: (streamId, fromSeq, limit) => read(streamId, fromSeq, limit),
  });

  // The inactivity sweep. Every relay runs it; the end script decides atomically, so two relays
  // sweeping at once end a stream once.
  let sweeping = false;
  const sweep = async () => {
    if (sweeping || client.status !== 'ready') return;
    sweeping = true;
    try {
      for (let round = 0; round < 100; round++) {
        // Scores are the relays' clocks at open time (a hint only); the end script judges idleness by Redis's clock.
        const cutoff = Date.now() - inactivityTimeoutMs;
        const found = await client.zrangebyscore(openSetKey, '-inf', cutoff, 'WITHSCORES', 'LIMIT', 0, SWEEP_BATCH);
        if (found.length === 0) return;
        const candidates: Array<[string, string]> = [];
        for (let index = 0; index + 1 < found.length; index += 2) candidates.push([found[index]!, found[index + 1]!]);
        await Promise.all(candidates.map(([streamId, score]) => expireIfIdle(streamId, score)));
        if (candidates.length < SWEEP_BATCH) return;
      }
    } catch (error) {
      throttledLog?.write('warn', 'redis:sweep', { err: error }, 'the inactivity sweep failed; the next tick tries again');
      // Redis unreachable: the next tick tries again; health() reports it.
    } finally {
      sweeping = false;
    }
  };
  const expireIfIdle = async (streamId: string, score: string) => {
    try {
      const [state, value, reason, gen, changed] = await scripted.ssRelayEnd(
        metaKey(streamId),
        chunksKey(streamId),
        '',
        'inactivity-timeout',
        '',
        ttlMs,
        channelOf(streamId),
        inactivityTimeoutMs,
      );
      if (state === 'active') {
        await scripted.ssRelaySettle(openSetKey, streamId, 'rescore', Number(value));
        return;
      }
      if (state === 'ended' && changed === 1) feeds.localEnd(streamId, gen!, value!, reason as EndReason);
      await scripted.ssRelaySettle(openSetKey, streamId, 'remove', score);
    } catch (error) {
      // A foreign key type: nothing to sweep there, forget it. Anything else: next time.
      if (toStoreError(error, { streamId }).code === 'STREAM_CORRUPT') await client.zrem(openSetKey, streamId).catch(() => {});
    }
  };
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(10, Math.min(5000, Math.floor(inactivityTimeoutMs / 4)));
  const timer = setInterval(() => void sweep(), sweepIntervalMs);
  timer.unref();

  let closed = false;
  // On a cluster, fail fast as on a single Redis, so producers get STORE_UNAVAILABLE (and retry)
  // rather than a hanging ack: a cluster client with no node to send to would queue commands until
  // it reconnects, and `commandTimeout` only counts once a command was sent. The cluster client this
  // store owns has no offline queue, so its first commands wait here for its first connection.
  let starting: Promise<void> | undefined =
    cluster && ownsClient
      ? firstAttempt(cluster, commandTimeout).then(() => {
          starting = undefined;
        })
      : undefined;
  const onCluster = <Value>(work: () => Promise<Value>): Promise<Value> => {
    if (!cluster) return work();
    if (starting) return starting.then(() => onCluster(work));
    if (CLUSTER_AWAY.has(cluster.status)) {
      return Promise.reject(new Error(`cluster client ${cluster.status}: ${clusterTrouble()}`));
    }
    return withTimeout(work(), commandTimeout, 'from the Redis Cluster');
  };
  const guard = <Value>(streamId: string, work: () => Promise<Value>, context: { seq?: number; expectedLastSeq?: number } = {}) => {
    if (closed) return Promise.reject(new StreamstraightError('CLOSED', 'The Redis store is closed.'));
    return onCluster(work).catch((error: unknown) => {
      throw toStoreError(error, { streamId, ...context });
    });
  };

  return {
    open(streamId: string, mode: OpenMode, openId?: string): Promise<OpenResult> {
      return guard(streamId, async () => {
        // The lease counter is global (unique fencing tokens across all streams); the open set lets
        // any relay find streams to time out. Both are outside the stream's slot, hence not in the script.
        const [lease] = await Promise.all([client.incr(leaseKey), client.zadd(openSetKey, Date.now(), streamId)]);
        const [status, lastSeq, endReason] = await scripted.ssRelayOpen(metaKey(streamId), chunksKey(streamId), mode, lease, ttlMs, openId ?? '');
        return { info: infoOf(streamId, status, lastSeq, endReason), lease };
      });
    },

    append(streamId, lease, seq, data) {
      return guard(
        streamId,
        async () => {
          const [lastSeq, first, gen] = await scripted.ssRelayAppend(
            metaKey(streamId),
            chunksKey(streamId),
            lease,
            seq,
            ttlMs,
            channelOf(streamId),
            inlineMax,
            ...data,
          );
          if (first >= 0) feeds.localChunks(streamId, gen, first, first === seq ? data : data.slice(first - seq));
          return { lastSeq };
        },
        { seq },
      );
    },

    end(streamId, lease, reason, expectedLastSeq) {
      return guard(
        streamId,
        async () => {
          const [, lastSeq, endReason, gen, changed] = await scripted.ssRelayEnd(
            metaKey(streamId),
            chunksKey(streamId),
            lease === null ? '' : lease,
            reason,
            expectedLastSeq ?? '',
            ttlMs,
            channelOf(streamId),
            '',
          );
          if (changed === 1) feeds.localEnd(streamId, gen!, lastSeq!, endReason as EndReason);
          return infoOf(streamId, 'ended', lastSeq!, endReason!);
        },
        { expectedLastSeq },
      );
    },

    info(streamId) {
      return guard(streamId, async () => (await readMeta(streamId))?.info);
    },

    read(streamId, fromSeq, limit) {
      return guard(streamId, () => read(streamId, fromSeq, limit));
    },

    subscribe(streamId, listener) {
      return feeds.subscribe(streamId, listener);
    },

    create(streamId, request) {
      return guard(streamId, async () => {
        const data = request.data ?? [];
        const [gen] = await Promise.all([client.incr(leaseKey), client.zadd(openSetKey, Date.now(), streamId)]);
        const [created, ...flat] = await scripted.ssRelayCreate(
          metaKey(streamId),
          chunksKey(streamId),
          gen,
          ttlMs,
          channelOf(streamId),
          inlineMax,
          request.end ?? '',
          ...metadataArgs(request.metadata),
          ...data,
        );
        const described = describeHash(streamId, flat);
        if (created === 1) {
          if (data.length > 0) feeds.localChunks(streamId, gen, 0, data);
          if (request.end !== undefined) feeds.localEnd(streamId, gen, data.length - 1, request.end);
        }
        return { created: created === 1, ...described };
      });
    },

    describe(streamId) {
      return guard(streamId, async () => {
        const flat = await client.hgetall(metaKey(streamId));
        if (Object.keys(flat).length === 0) return undefined;
        return describeHash(streamId, Object.entries(flat).flat());
      });
    },

    setMetadata(streamId, fields) {
      return guard(streamId, async () => {
        const args = Object.entries(fields).flatMap(([field, value]) => (value === null ? [field, 'del', ''] : [field, 'set', value]));
        return (await scripted.ssRelaySetMetadata(metaKey(streamId), ...args)) === 1;
      });
    },

    incrementMetadata(streamId, field, by) {
      return guard(streamId, async () => {
        const [found, value] = await scripted.ssRelayIncrementMetadata(metaKey(streamId), field, by);
        return found === 1 ? Number(value) : undefined;
      });
    },

    appendAtTail(streamId, request) {
      return guard(streamId, async (): Promise<TailAppendResult> => {
        const { producer } = request;
        const [outcome, lastSeq, status, endReason, gen, number, text, firstSeq] = await scripted.ssRelayTailAppend(
          metaKey(streamId),
          chunksKey(streamId),
          ttlMs,
          channelOf(streamId),
          inlineMax,
          request.end ?? '',
          request.writerSeq ?? '',
          producer?.id ?? '',
          producer?.epoch ?? 0,
          producer?.seq ?? 0,
          ...metadataArgs(request.metadata),
          ...request.data,
        );
        const info = infoOf(streamId, status, Number(lastSeq), endReason);
        switch (outcome) {
          case 'appended':
            if (request.data.length > 0) feeds.localChunks(streamId, gen, firstSeq, request.data);
            if (request.end !== undefined) feeds.localEnd(streamId, gen, info.lastSeq, request.end);
            return { status: 'appended', info, firstSeq };
          case 'duplicate':
            return { status: 'duplicate', info, producerSeq: Number(number) };
          case 'ended':
            return { status: 'ended', info };
          case 'stale-epoch':
            return { status: 'stale-epoch', info, currentEpoch: Number(number) };
          case 'epoch-seq':
            return { status: 'epoch-seq', info };
          case 'producer-gap':
            return { status: 'producer-gap', info, expectedSeq: Number(number) };
          case 'writer-seq':
            return { status: 'writer-seq', info, lastWriterSeq: text };
          default:
            throw new StreamstraightError('INTERNAL', `The Redis store's append script answered "${outcome}" for stream "${streamId}".`);
        }
      });
    },

    delete(streamId) {
      return guard(streamId, async () => {
        const [removed] = await Promise.all([client.del(metaKey(streamId), chunksKey(streamId)), client.zrem(openSetKey, streamId)]);
        return removed > 0;
      });
    },

    async health() {
      const problem = (detail: string) => ({ status: 'degraded' as const, store: 'redis', detail });
      if (closed) return problem('closed');
      const started = Date.now();
      if (cluster) {
        // CLUSTER INFO rather than PING: a node that answers is not enough, every slot must be served.
        if (!(await connected(cluster, 2000))) {
          return problem(`Redis Cluster not ready within 2 s (${cluster.status}): ${seeds ? await probeSeeds(seeds) : clusterTrouble()}`);
        }
        let state: string | undefined;
        try {
          const info = await withTimeout(cluster.cluster('INFO'), 2000, 'to CLUSTER INFO');
          state = /cluster_state:(\w+)/.exec(String(info))?.[1];
        } catch (error) {
          return problem(`Redis Cluster unreachable: ${(error as Error).message}`);
        }
        if (state !== 'ok') return problem(`Redis Cluster state is ${state ?? 'unknown'} (CLUSTER INFO): some hash slots are not served`);
      } else {
        try {
          await withTimeout(client.ping(), 2000, 'to PING');
        } catch (error) {
          const reason = (error as Error).name === 'MaxRetriesPerRequestError' && lastError ? lastError.message : (error as Error).message;
          return problem(`Redis unreachable: ${reason}`);
        }
      }
      if (!(await connected(subscriber, 2000))) return problem(`Pub/Sub connection ${subscriber.status}; live delivery across relays is paused`);
      const check = cluster ? 'CLUSTER INFO ok in' : 'PING';
      return { status: 'ok', store: 'redis', detail: `${check} ${Date.now() - started} ms, ${feeds.size} streams followed` };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      feeds.clear();
      subscriber.disconnect();
      if (ownsClient) {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      } else {
        client.off('error', rememberCommandsError);
        cluster?.off('node error', rememberNode);
      }
    },
  };
}
