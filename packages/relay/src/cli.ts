#!/usr/bin/env node
// `ss-relay`: runs the relay with the embedded memory store, or the Redis store with --redis
// (one Redis) or --redis-cluster (a Redis Cluster).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, createLogger, isLogLevel } from './logger.js';
import { createRelay } from './relay.js';
import { type RelayLimits, limitArgOptions, limitUsage, limitsFromArgs } from './relay-limits.js';
import { parseDuration } from './parse-duration.js';
import { parseClusterNodes } from './store/redis-cluster-nodes.js';
import { type RedisStoreOptions, redisStore } from './store/redis-store.js';
import type { StreamStore } from './store/stream-store.js';

const USAGE = `Usage: ss-relay [options]

Every option has an environment variable; a flag wins over its variable.

Options:
  --port <n>                 port to listen on (default 8787, env PORT)
  --host <addr>              interface to bind (default 0.0.0.0, env HOST)
  --api-key <key>            an API key producers use; repeat for rotation (env SS_API_KEY: one key,
                             or several comma separated; tokens are signed with the first)
  --ttl <duration>           keep a stream this long after its last write (default 60m, env SS_TTL)
  --inactivity-timeout <d>   end an open stream with no write for this long (default 10m, env SS_INACTIVITY_TIMEOUT)
  --max-chunk-bytes <n>      largest chunk accepted (default 262144, env SS_MAX_CHUNK_BYTES)
  --producer-grace <d>       how long a stream waits for its vanished producer to come back before it
                             ends with producer-disconnected (default 60s, env SS_PRODUCER_GRACE)
  --cors-origin <origin>     an origin allowed for browser readers on the polling transport; repeatable,
                             * for any (default any, env SS_CORS_ORIGIN, comma separated)
  --clock-tolerance <d>      clock skew allowed on client tokens' exp (default 5s, env SS_CLOCK_TOLERANCE)
  --deployment-id <id>       names this relay in stream:info (default <hostname>-<pid>, env SS_DEPLOYMENT_ID)
  --unscoped-tokens <on|off> POST /v1/token with no body (what Streamstraight's SDKs send) mints a 5-minute
                             read token for every stream; off answers it 400 (default on, env SS_UNSCOPED_TOKENS)
  --metrics <on|off>         serve Prometheus metrics at /metrics (default on, env SS_METRICS)
  --metrics-port <n>         serve /metrics on this port instead of the public one (env SS_METRICS_PORT)
  --metrics-host <addr>      interface of the metrics port (default: --host, env SS_METRICS_HOST)
  --sse-keep-alive <d>       interval of keep-alive comments on a quiet SSE response (default 15s, env SS_SSE_KEEP_ALIVE)
  --sse-retry <d>            the SSE retry: field, EventSource's reconnect delay (default 1s, env SS_SSE_RETRY)
  --finished-cache-control <v>
                             Cache-Control of an HTTP read of an ended stream (default "private, max-age=300",
                             env SS_FINISHED_CACHE_CONTROL)
  --http-max-request-bytes <n>
                             largest HTTP producer request body (default 8388608, env SS_HTTP_MAX_REQUEST_BYTES)
  --redis <url>              keep streams in Redis (redis://[user:pass@]host:port[/db]; env SS_REDIS_URL);
                             several relays sharing one Redis serve the same streams. Default: in memory
  --redis-cluster <nodes>    keep streams in a Redis Cluster instead: seed nodes, comma separated, each
                             host:port or redis://[user:pass@]host:port (env SS_REDIS_CLUSTER_NODES)
  --redis-prefix <p>         prefix of every Redis key (default ss:, env SS_REDIS_PREFIX)
  --log-level <level>        fatal, error, warn, info, debug, trace or silent (default info, env SS_LOG_LEVEL)
  --log-format <format>      json (one JSON object per line) or pretty (default: pretty on a terminal,
                             json otherwise; env SS_LOG_FORMAT)
  --drain <duration>         on SIGTERM/SIGINT, answer /readyz with 503 for this long before disconnecting
                             clients, so a load balancer stops sending new ones (default 0, env SS_DRAIN)
  --shutdown-timeout <d>     exit with code 1 if shutting down takes longer (default 10s, env SS_SHUTDOWN_TIMEOUT)
  --durable-streams <mode>   the Durable Streams protocol at /ds: authenticated (default; API key to write,
                             API key or client token to read), open (no credentials: local tests only),
                             or off (env SS_DURABLE_STREAMS)
  -v, --version              print the version
  -h, --help                 show this help

Limits (see the README's "Limits"):
${limitUsage()}

Durations: 500ms, 30s, 10m, 1h (a bare number is seconds).`;

/** The URL as it may be printed (password hidden), or undefined when it is not a Redis URL. */
function withoutPassword(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return undefined;
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return undefined;
  }
}

function fail(message: string): never {
  console.error(`ss-relay: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
  const options = {
    port: { type: 'string' },
    host: { type: 'string' },
    'api-key': { type: 'string', multiple: true },
    ttl: { type: 'string' },
    'inactivity-timeout': { type: 'string' },
    'max-chunk-bytes': { type: 'string' },
    redis: { type: 'string' },
    'redis-cluster': { type: 'string' },
    'redis-prefix': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    'producer-grace': { type: 'string' },
    'cors-origin': { type: 'string', multiple: true },
    'clock-tolerance': { type: 'string' },
    'deployment-id': { type: 'string' },
    metrics: { type: 'string' },
    'unscoped-tokens': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    'sse-keep-alive': { type: 'string' },
    'sse-retry': { type: 'string' },
    'finished-cache-control': { type: 'string' },
    'http-max-request-bytes': { type: 'string' },
    drain: { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    version: { type: 'boolean', short: 'v' },
    'durable-streams': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    ...limitArgOptions(),
  } as const;
  try {
    parsed = parseArgs({ options, strict: true });
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.version) {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    console.log(version);
    return;
  }
  /** A flag's value, else its environment variable's (an empty variable counts as unset). */
  const setting = (flag: string | undefined, variable: string): string | undefined => flag ?? (process.env[variable] || undefined);
  const logLevel = values['log-level'] ?? (process.env.SS_LOG_LEVEL || 'info');
  if (!isLogLevel(logLevel)) fail(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}".`);
  const logFormat = values['log-format'] ?? (process.env.SS_LOG_FORMAT || undefined);
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty') fail(`--log-format must be json or pretty, got "${logFormat}".`);
  const log = createLogger({ level: logLevel, format: logFormat });

  if (process.env.SS_API_KEYS && !process.env.SS_API_KEY) {
    fail('SS_API_KEYS was renamed SS_API_KEY (one key, or several comma separated). Rename the variable.');
  }
  const apiKeys = [...(values['api-key'] ?? []), ...(process.env.SS_API_KEY ?? '').split(',')].map((key) => key.trim()).filter(Boolean);
  if (apiKeys.length === 0) {
    fail('no API key. Start it with --api-key <key> (repeatable) or SS_API_KEY=key (several: SS_API_KEY=new-key,old-key) — producers authenticate with one of these keys.');
  }
  const port = Number(values.port ?? process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port must be an integer from 0 to 65535, got "${values.port}".`);
  const host = values.host ?? process.env.HOST ?? '0.0.0.0';
  const durationOption = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined) fail(`--${name} must be a duration like 30s, 10m or 1h, got "${raw}".`);
    return ms;
  };
  const rawMaxChunkBytes = setting(values['max-chunk-bytes'], 'SS_MAX_CHUNK_BYTES');
  const maxChunkBytes = rawMaxChunkBytes === undefined ? undefined : Number(rawMaxChunkBytes);
  if (maxChunkBytes !== undefined && !(Number.isInteger(maxChunkBytes) && maxChunkBytes > 0)) fail('--max-chunk-bytes must be a positive integer.');
  const portOption = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65_535) fail(`--${name} must be an integer from 0 to 65535, got "${raw}".`);
    return value;
  };
  const producerGraceMs = durationOption('producer-grace', setting(values['producer-grace'], 'SS_PRODUCER_GRACE'));
  const clockTolerance = durationOption('clock-tolerance', setting(values['clock-tolerance'], 'SS_CLOCK_TOLERANCE'));
  const clockToleranceSeconds = clockTolerance === undefined ? undefined : clockTolerance / 1000;
  const corsOrigins = [...(values['cors-origin'] ?? []), ...(process.env.SS_CORS_ORIGIN ?? '').split(',')].map((origin) => origin.trim()).filter(Boolean);
  const corsOrigin = corsOrigins.length === 0 || corsOrigins.includes('*') ? undefined : corsOrigins;
  const deploymentId = setting(values['deployment-id'], 'SS_DEPLOYMENT_ID');
  const metricsSwitch = setting(values.metrics, 'SS_METRICS') ?? 'on';
  if (metricsSwitch !== 'on' && metricsSwitch !== 'off') fail(`--metrics must be on or off, got "${metricsSwitch}".`);
  const unscopedTokens = setting(values['unscoped-tokens'], 'SS_UNSCOPED_TOKENS') ?? 'on';
  if (unscopedTokens !== 'on' && unscopedTokens !== 'off') fail(`--unscoped-tokens must be on or off, got "${unscopedTokens}".`);
  const metricsPort = portOption('metrics-port', setting(values['metrics-port'], 'SS_METRICS_PORT'));
  const metricsHost = setting(values['metrics-host'], 'SS_METRICS_HOST');
  const byteOption = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!(Number.isSafeInteger(value) && value > 0)) fail(`--${name} must be a positive integer number of bytes, got "${raw}".`);
    return value;
  };
  const http = {
    keepAliveMs: durationOption('sse-keep-alive', setting(values['sse-keep-alive'], 'SS_SSE_KEEP_ALIVE')),
    retryMs: durationOption('sse-retry', setting(values['sse-retry'], 'SS_SSE_RETRY')),
    finishedCacheControl: setting(values['finished-cache-control'], 'SS_FINISHED_CACHE_CONTROL'),
    maxRequestBytes: byteOption('http-max-request-bytes', setting(values['http-max-request-bytes'], 'SS_HTTP_MAX_REQUEST_BYTES')),
  };
  const drainMs = durationOption('drain', setting(values.drain, 'SS_DRAIN')) ?? 0;
  const shutdownTimeoutMs = durationOption('shutdown-timeout', setting(values['shutdown-timeout'], 'SS_SHUTDOWN_TIMEOUT')) ?? 10_000;

  const ttlMs = durationOption('ttl', values.ttl ?? process.env.SS_TTL);
  const inactivityTimeoutMs = durationOption('inactivity-timeout', values['inactivity-timeout'] ?? process.env.SS_INACTIVITY_TIMEOUT);
  const redisUrl = values.redis ?? (process.env.SS_REDIS_URL || undefined);
  const clusterList = values['redis-cluster'] ?? (process.env.SS_REDIS_CLUSTER_NODES || undefined);
  if (redisUrl !== undefined && clusterList !== undefined) {
    fail('give --redis (one Redis, env SS_REDIS_URL) or --redis-cluster (a Redis Cluster, env SS_REDIS_CLUSTER_NODES), not both.');
  }
  /** Where the Redis store connects, how to name it, and what to check when it cannot. */
  let redis: { options: RedisStoreOptions; where: string; name: string; check: string } | undefined;
  if (clusterList !== undefined) {
    const clusterNodes = clusterList
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    let shown = '';
    try {
      shown = parseClusterNodes(clusterNodes).shown;
    } catch (error) {
      fail(`--redis-cluster: ${(error as Error).message}`);
    }
    redis = {
      options: { clusterNodes },
      where: `the Redis Cluster at ${shown}`,
      name: `Redis Cluster store at ${shown}`,
      check: '--redis-cluster / SS_REDIS_CLUSTER_NODES and that the cluster is up',
    };
  } else if (redisUrl !== undefined) {
    const shownUrl = withoutPassword(redisUrl);
    if (shownUrl === undefined) fail(`--redis must be a URL like redis://localhost:6379, got "${redisUrl}".`);
    redis = { options: { url: redisUrl }, where: `Redis at ${shownUrl}`, name: `Redis store at ${shownUrl}`, check: '--redis / SS_REDIS_URL and that Redis is running' };
  }
  let store: StreamStore | undefined;
  let storeName = 'memory store';
  if (redis !== undefined) {
    try {
      store = redisStore({ ...redis.options, keyPrefix: values['redis-prefix'] ?? process.env.SS_REDIS_PREFIX, ttlMs, inactivityTimeoutMs, log });
    } catch (error) {
      fail((error as Error).message);
    }
    const health = await store.health();
    if (health.status !== 'ok') {
      await store.close();
      fail(`cannot reach ${redis.where} (${health.detail}). Check ${redis.check}.`);
    }
    storeName = redis.name;
  }

  let limits: Partial<RelayLimits> = {};
  try {
    limits = limitsFromArgs(values, process.env);
  } catch (error) {
    fail((error as Error).message);
  }
  const durableStreamsMode = values['durable-streams'] ?? (process.env.SS_DURABLE_STREAMS || 'authenticated');
  if (durableStreamsMode !== 'authenticated' && durableStreamsMode !== 'open' && durableStreamsMode !== 'off') {
    fail(`--durable-streams must be authenticated, open or off, got "${durableStreamsMode}".`);
  }
  const durableStreams = durableStreamsMode === 'off' ? (false as const) : { access: durableStreamsMode as 'authenticated' | 'open' };

  const relay = createRelay({
    apiKeys,
    store,
    ttlMs,
    inactivityTimeoutMs,
    maxChunkBytes,
    producerGraceMs,
    corsOrigin,
    clockToleranceSeconds,
    deploymentId,
    unscopedTokens: unscopedTokens === 'on',
    metrics: metricsSwitch === 'on',
    metricsPort,
    metricsHost,
    log,
    limits,
    durableStreams,
    http,
  });
  const durableStreamsNote = (url: string) =>
    durableStreams === false ? '' : `, Durable Streams at ${url}/ds${durableStreamsMode === 'open' ? ' WITHOUT credentials' : ''}`;
  try {
    const { url, metricsUrl } = await relay.listen(port, host);
    log.info(
      { url, store: storeName, apiKeys: apiKeys.length, metrics: metricsSwitch === 'off' ? 'off' : (metricsUrl ?? `${url}/metrics`) },
      `ss-relay listening on ${url} (${storeName}, ${apiKeys.length} API key${apiKeys.length === 1 ? '' : 's'}${durableStreamsNote(url)})`,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${port} is already in use. Stop the other process or pass --port <another>.`);
    if (code === 'EACCES') fail(`not allowed to listen on port ${port}. Use a port above 1023 or run with the needed rights.`);
    fail(`could not listen on ${host}:${port}: ${(error as Error).message}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1); // a second Ctrl-C: stop at once
    }
    stopping = true;
    log.info({ signal, drainMs, shutdownTimeoutMs }, `ss-relay: ${signal}, shutting down`);
    setTimeout(() => {
      log.error({ shutdownTimeoutMs }, 'shutting down took longer than --shutdown-timeout; exiting now');
      process.exit(1);
    }, drainMs + shutdownTimeoutMs).unref();
    try {
      await relay.close({ drainMs });
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
