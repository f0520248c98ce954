import { type Server as HttpServer, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { getRequestListener } from '@hono/node-server';
import { DEFAULT_MAX_CHUNK_BYTES, SOCKET_PATH } from '@ss/core/protocol';
import { Server } from 'socket.io';
import { createApiKeyCheck } from './api-keys.js';
import { type DurableStreamsOptions, createDurableStreamsFace } from './durable-streams/durable-streams-face.js';
import { createHttpApi } from './http-api.js';
import { type LogFunction, type LogLevel, type RelayLogger, toRelayLogger } from './logger.js';
import { type HttpFaceOptions, httpFaceRoutes } from './http-face/http-face.js';
import { authenticate } from './internal/authenticate.js';
import { coalesceWrites } from './internal/coalesce-writes.js';
import { startConsumerSession } from './internal/consumer-session.js';
import { type ProducerHandle, startProducerSession } from './internal/producer-session.js';
import { type RelayLimits, resolveLimits } from './relay-limits.js';
import { guardPayloads } from './internal/payload-guard.js';
import { ConnectionGuard } from './internal/connection-guard.js';
import { KeyedRateLimiter, ProducerQuotas, apiKeyId } from './internal/producer-quotas.js';
import { ReaderBudgets } from './internal/reader-budget.js';
import { SaturationMonitor } from './internal/saturation-monitor.js';
import { RelayMetrics } from './internal/relay-metrics.js';
import type { RelayServer } from './internal/relay-socket.js';
import { StreamHub } from './internal/stream-hub.js';
import { ThrottledLog } from './internal/throttled-log.js';
import { VerifiedTokens } from './internal/verified-tokens.js';
import { memoryStore } from './store/memory-store.js';
import { DEFAULT_TTL_MS, type StreamStore } from './store/stream-store.js';

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** API keys producers (and `POST /v1/token`) authenticate with. Several at once during a rotation; tokens are signed with the first. */
  apiKeys: string[];
  /** Where streams live. Default: `memoryStore({ ttlMs, inactivityTimeoutMs })`. */
  store?: StreamStore;
  /** Retention after the last write, for the default store. Default 60 minutes. */
  ttlMs?: number;
  /** An open stream with no write for this long is ended, for the default store. Default 10 minutes. */
  inactivityTimeoutMs?: number;
  /** Largest chunk accepted, in UTF-8 bytes. Default 256 KiB. */
  maxChunkBytes?: number;
  /** How long a stream waits for its vanished producer to reconnect before it ends with `producer-disconnected`. Default 60 s. */
  producerGraceMs?: number;
  /** Origins allowed for browser readers on the long-polling transport (WebSocket needs none). Default: any. */
  corsOrigin?: string | string[] | boolean;
  /** Clock skew allowed when checking client tokens' `exp`. Default 5 s. */
  clockToleranceSeconds?: number;
  /** Names this relay in `stream:info`. Default: `<hostname>-<pid>`. */
  deploymentId?: string;
  /** The Durable Streams protocol under a path prefix (default `/ds`, authenticated); `false` turns it off. */
  durableStreams?: DurableStreamsOptions | false;
  /**
   * The logger: pino, or anything with pino's level methods and `child` ({@link RelayLogger}). Every
   * part of the relay logs through it: auth failures (warn, at most one line per kind every 10 s),
   * stream open/end (debug), store errors (error), HTTP requests (debug), shutdown (info). A plain
   * function `(message, error) => void` (the older form) receives warnings and errors only.
   * Default: {@link createLogger} at `logLevel` — JSON lines on stdout, readable lines on a terminal.
   */
  log?: RelayLogger | LogFunction;
  /** Level of the default logger (ignored when `log` is given). Default `info`. */
  logLevel?: LogLevel;
  /** Bounds on what one client may cost the relay; any left out keeps its default (see the README's "Limits"). */
  limits?: Partial<RelayLimits>;
  /**
   * `POST /v1/token` with no body (what Streamstraight's own SDKs send) mints a read token for every
   * stream, valid 5 minutes. `false` answers such a request 400. Default `true`.
   */
  unscopedTokens?: boolean;
  /** Serve Prometheus metrics at `GET /metrics`. Default `true`. */
  metrics?: boolean;
  /**
   * Serve `/metrics` on this port of its own (0 picks a free one) instead of the public port, which
   * then has no `/metrics`. Default: on the public port.
   */
  metricsPort?: number;
  /** Interface of the metrics port. Default: the one `listen()` binds. */
  metricsHost?: string;
  /** Limits of the HTTP face: SSE / NDJSON / text readers and the HTTP producer. */
  http?: HttpFaceOptions;
}

/** A running (or ready to run) relay. */
export interface Relay {
  /** The Socket.IO server (both roles). */
  readonly io: RelayServer;
  /** The HTTP server that carries Socket.IO and the HTTP API. */
  readonly httpServer: HttpServer;
  /** The store streams live in. */
  readonly store: StreamStore;
  /** The logger every part of the relay writes to. */
  readonly log: RelayLogger;
  /**
   * Starts listening.
   * @param port - the port; 0 picks a free one.
   * @param host - the interface. Default `127.0.0.1`.
   * @returns the URL producers and readers use.
   */
  listen(port?: number, host?: string): Promise<{ url: string; port: number; metricsUrl?: string }>;
  /**
   * Shuts down: `/readyz` answers 503 at once; after `drainMs` (default 0) every client is
   * disconnected (producers and readers reconnect, to another relay behind the same URL, and
   * resume), the HTTP server stops and the store is closed. Stored streams stay intact.
   */
  close(options?: { drainMs?: number }): Promise<void>;
  /** `await using relay = createRelay(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the relay: Socket.IO for producers and readers, plus the HTTP API (`POST /v1/token`,
 * `GET /v1/streams/:id`, `GET /healthz`) and the Durable Streams protocol (`/ds`) on the same port.
 *
 * @param options - API keys, store and limits.
 * @returns the relay; call `listen()` to start it.
 * @example
 * ```ts
 * const relay = createRelay({ apiKeys: [process.env.SS_API_KEY!], store: memoryStore() })
 * const { url } = await relay.listen(8787)
 * ```
 */
export function createRelay(options: RelayOptions): Relay {
  const checkApiKey = createApiKeyCheck(options.apiKeys);
  const limits = resolveLimits(options.limits);
  const store = options.store ?? memoryStore({ ttlMs: options.ttlMs, inactivityTimeoutMs: options.inactivityTimeoutMs, maxBytes: limits.maxMemoryStoreBytes });
  const log = toRelayLogger(options.log, options.logLevel);
  const throttledLog = new ThrottledLog(log);
  const maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;

  const connections = { producer: 0, consumer: 0 };
  const metrics: RelayMetrics = new RelayMetrics({ connections: () => connections, streamsWithReaders: (): number => hub.size });
  const metricsEnabled = options.metrics ?? true;
  const metricsOwnPort = metricsEnabled && options.metricsPort !== undefined;
  let closing = false;
  const saturation = new SaturationMonitor(limits.saturationDelayMs, metrics);
  const tokenRequests = new KeyedRateLimiter(limits.maxTokenRequestsPerKeyPerSecond);
  const httpApi = createHttpApi({
    apiKeys: options.apiKeys,
    checkApiKey,
    store,
    health: async () => ({
      ...(await store.health()),
      connections: io.engine.clientsCount,
      saturated: saturation.saturated,
      eventLoopDelayP99Ms: Math.round(saturation.delayP99Ms),
    }),
    readiness: async () => (closing ? { status: 'degraded', detail: 'The relay is shutting down.' } : await store.health()),
    metrics: metricsEnabled && !metricsOwnPort ? () => metrics.scrape() : undefined,
    unscopedTokens: options.unscopedTokens,
    tokenRateLimit: (apiKey) => tokenRequests.take(apiKeyId(apiKey)),
    log: log.child({ component: 'http' }),
    throttledLog,
    extend: httpFaceRoutes(options.http ?? {}, {
      store,
      apiKeys: options.apiKeys,
      checkApiKey,
      clockToleranceSeconds: options.clockToleranceSeconds ?? 5,
      maxChunkBytes,
      corsOrigin: options.corsOrigin ?? true,
      metrics,
      log: log.child({ component: 'http-face' }),
      readerBudgets: () => readerBudgets,
      quotas: () => quotas,
      producers: () => producers,
    }),
  });
  const httpListener = getRequestListener(httpApi.fetch);
  const durableStreams =
    options.durableStreams === false
      ? undefined
      : createDurableStreamsFace(options.durableStreams ?? {}, {
          store,
          checkApiKey,
          verifiedTokens: new VerifiedTokens(options.apiKeys, options.clockToleranceSeconds ?? 5),
          registry: metrics.registry,
          onInternalError: (error) => log.error({ err: error }, 'unexpected error in a Durable Streams request'),
          // The guard is made below, with the HTTP server; these run per request, after that.
          failedCredentials: {
            refusal: (ip) => connectionGuard.refusalFor(ip),
            note: (ip) => connectionGuard.noteFailedHandshake(ip),
          },
        });
  const httpServer = createServer((request, response) => {
    if (durableStreams?.matches(request.url)) void durableStreams.handle(request, response);
    else void httpListener(request, response);
  });
  const metricsServer = metricsOwnPort ? createMetricsServer(() => metrics.scrape()) : undefined;
  const io: RelayServer = new Server(httpServer, {
    path: SOCKET_PATH,
    // A frame holds up to 1,024 chunks; leave room for a full batch of large chunks.
    maxHttpBufferSize: Math.max(8 * 1024 * 1024, maxChunkBytes * 4),
    cors: { origin: options.corsOrigin ?? true },
    // An engine.io session that has not joined the namespace by then is closed (Socket.IO's default: 45 s).
    connectTimeout: limits.handshakeTimeoutMs,
    serveClient: false,
  });
  const connectionGuard = new ConnectionGuard({
    socketPath: SOCKET_PATH,
    handshakeTimeoutMs: limits.handshakeTimeoutMs,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    maxFailedHandshakesPerIp: limits.maxFailedHandshakesPerIp,
    failedHandshakeWindowMs: limits.failedHandshakeWindowMs,
    metrics,
    throttledLog,
  });
  connectionGuard.attach(httpServer);
  const producers = new Map<string, ProducerHandle>();
  const quotas = new ProducerQuotas(limits, options.ttlMs ?? DEFAULT_TTL_MS);
  const readerBudgets = new ReaderBudgets({ maxQueuedBytes: limits.maxQueuedBytesPerReader, stallTimeoutMs: limits.slowReaderTimeoutMs }, metrics);
  const hub = new StreamHub(io, store, throttledLog, limits.maxQueuedBytesPerReader, () => metrics.readersPaced.inc(), (): boolean => saturation.saturated);
  const producerContext = {
    store,
    deploymentId: options.deploymentId ?? `${hostname()}-${process.pid}`,
    maxChunkBytes,
    producerGraceMs: options.producerGraceMs ?? 60_000,
    producers,
    quotas,
    log: log.child({ component: 'producer' }),
    throttledLog,
    metrics,
  };
  const clockToleranceSeconds = options.clockToleranceSeconds ?? 5;
  const consumerContext = { store, hub, producers, log: log.child({ component: 'reader' }), throttledLog, metrics, clockToleranceSeconds, limits, readerBudgets };

  const payloadLimits = { maxDepth: limits.maxPayloadDepth, maxEntries: limits.maxPayloadEntries };
  io.use(
    authenticate({
      apiKeys: options.apiKeys,
      checkApiKey,
      clockToleranceSeconds,
      throttledLog,
      payloadLimits,
      onRefused: (address) => connectionGuard.noteFailedHandshake(address),
      maxFailedHandshakesPerKey: limits.maxFailedHandshakesPerKey,
      failedHandshakeWindowMs: limits.failedHandshakeWindowMs,
      onLimited: (limit) => metrics.limitRefusals.inc({ limit }),
    }),
  );
  io.on('connection', (socket) => {
    const role = socket.data.identity.role;
    // A producer connection gets an ack per frame of every stream: worth one write per batch. A
    // reader gets one message per write anyway, so its transport is left as it is.
    if (role === 'producer') coalesceWrites(socket);
    guardPayloads(socket, payloadLimits, { log, throttledLog, metrics });
    connections[role]++;
    socket.on('disconnect', () => connections[role]--);
    if (role === 'producer') startProducerSession(socket, producerContext);
    else startConsumerSession(socket, consumerContext);
  });

  let closed: Promise<void> | undefined;
  const relay: Relay = {
    io,
    httpServer,
    store,
    log,
    async listen(port = 0, host = '127.0.0.1') {
      const main = await listenOn(httpServer, port, host);
      if (!metricsServer) return main;
      try {
        const own = await listenOn(metricsServer, options.metricsPort ?? 0, options.metricsHost ?? host);
        return { ...main, metricsUrl: `${own.url}/metrics` };
      } catch (error) {
        httpServer.close();
        throw error;
      }
    },
    close({ drainMs = 0 } = {}) {
      closed ??= (async () => {
        closing = true;
        if (drainMs > 0) {
          log.info({ drainMs }, 'relay draining: /readyz answers 503');
          await new Promise((resolve) => setTimeout(resolve, drainMs));
        }
        const started = Date.now();
        if (metricsServer?.listening) metricsServer.close();
        log.info({ connections: io.engine.clientsCount }, 'relay closing: disconnecting every client');
        durableStreams?.close();
        // io.close() disconnects every socket and closes the HTTP server.
        await new Promise<void>((resolve) => io.close(() => resolve()));
        readerBudgets.close();
        quotas.close();
        saturation.close();
        try {
          await store.close();
        } catch (error) {
          log.error({ err: error }, 'the store failed to close');
          throw error;
        }
        log.info({ durationMs: Date.now() - started }, 'relay closed');
      })();
      return closed;
    },
    [Symbol.asyncDispose]() {
      return relay.close();
    },
  };
  return relay;
}

/** Listens on `port` of `host`; resolves with the URL to show (a wildcard host shows as localhost). */
function listenOn(server: HttpServer, port: number, host: string): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
    });
  });
}

/** A server of its own for `GET /metrics` (everything else: 404). */
function createMetricsServer(scrape: () => Promise<{ contentType: string; body: string }>): HttpServer {
  return createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('Only GET /metrics is served on this port.\n');
      return;
    }
    scrape().then(
      ({ contentType, body }) => response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }).end(body),
      () => response.writeHead(500, { 'Content-Type': 'text/plain' }).end('Collecting the metrics failed.\n'),
    );
  });
}
