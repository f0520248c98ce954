import { StreamstraightError } from '@ss/core/protocol';
import { parseDuration } from './parse-duration.js';

/**
 * Every bound the relay keeps on what one client may cost it. Each has a safe default, a CLI
 * flag, a metric and a typed refusal; the relay README's "Limits" table lists them.
 */
export interface RelayLimits {
  /** Streams one reader connection may read at once. Past it: `QUOTA_EXCEEDED`. */
  maxSubscriptionsPerConnection: number;
  /**
   * Bytes queued for one reader connection (the relay's buffers and its transport's) past which it
   * is dropped with `SLOW_READER`. A live reader whose queue passes half of it, or a frame larger
   * than a quarter of it, moves to reads paced by its drain; catch-up reads go on only while the
   * queue is under a quarter of it. Keep it at least 4 × `maxChunkBytes`.
   */
  maxQueuedBytesPerReader: number;
  /** A reader with bytes queued and no progress for this long is dropped with `SLOW_READER`. */
  slowReaderTimeoutMs: number;
  /** Streams one producer connection may hold open at once (`QUOTA_EXCEEDED` past it). */
  maxOpenStreamsPerConnection: number;
  /** Streams the connections of one API key may hold open at once on this relay, streams waiting for their vanished producer included. */
  maxOpenStreamsPerKey: number;
  /** Bytes one stream may hold (counted by this relay as they are appended; `QUOTA_EXCEEDED` past it). */
  maxStreamBytes: number;
  /** Bytes the streams of one API key may hold on this relay until they expire. */
  maxStoredBytesPerKey: number;
  /** Chunks per second one producer connection may send (a one-second bucket; `QUOTA_EXCEEDED` with `retryInMs`). 0: off. */
  maxChunksPerSecondPerConnection: number;
  /** Bytes the default memory store may hold; past them new streams are refused (`QUOTA_EXCEEDED`), nothing is evicted. */
  maxMemoryStoreBytes: number;
  /** A TCP connection must send a complete HTTP request (a handshake included) this soon, and a Socket.IO session must connect to the namespace this soon after engine.io opened it; else it is closed. */
  handshakeTimeoutMs: number;
  /** TCP connections one IP address may hold at once (a new one past it gets HTTP 429). Behind a proxy every client has the proxy's address: raise it, or 0 (off). */
  maxConnectionsPerIp: number;
  /** Refused Socket.IO handshakes one IP may cause in `failedHandshakeWindowMs`; past it its new handshakes get HTTP 429 `RATE_LIMITED` until the window ends. 0: off. */
  maxFailedHandshakesPerIp: number;
  /** Handshakes refused as `UNAUTHORIZED` one presented API key or token may cause in `failedHandshakeWindowMs`, from any address; past it that credential is refused at once (`RATE_LIMITED`). A valid key never counts. 0: off. */
  maxFailedHandshakesPerKey: number;
  /** The window of `maxFailedHandshakesPerIp` and `maxFailedHandshakesPerKey`. */
  failedHandshakeWindowMs: number;
  /** `POST /v1/token` requests per second per API key (a one-second bucket; HTTP 429 `RATE_LIMITED` past it). 0: off. */
  maxTokenRequestsPerKeyPerSecond: number;
  /** The relay reports itself saturated (`/healthz`, `ss_relay_saturated`) while its event loop delay p99 over a second is above this. */
  saturationDelayMs: number;
  /** Deepest nesting of arrays and objects in a client's event payload or handshake `auth` (`BAD_REQUEST` past it). The protocol needs 4. */
  maxPayloadDepth: number;
  /** Most entries of one array (or keys of one object) in a client's payload (`BAD_REQUEST` past it). The protocol needs 1,024. */
  maxPayloadEntries: number;
}

/** The defaults of {@link RelayLimits}. */
export const DEFAULT_RELAY_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxSubscriptionsPerConnection: 100,
  maxQueuedBytesPerReader: 4 * 1024 * 1024,
  slowReaderTimeoutMs: 10_000,
  maxOpenStreamsPerConnection: 10_000,
  maxOpenStreamsPerKey: 50_000,
  maxStreamBytes: 32 * 1024 * 1024,
  maxStoredBytesPerKey: 512 * 1024 * 1024,
  maxChunksPerSecondPerConnection: 0,
  maxMemoryStoreBytes: 1024 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  maxConnectionsPerIp: 2_000,
  maxFailedHandshakesPerIp: 20,
  maxFailedHandshakesPerKey: 20,
  failedHandshakeWindowMs: 10_000,
  maxTokenRequestsPerKeyPerSecond: 200,
  saturationDelayMs: 200,
  maxPayloadDepth: 16,
  maxPayloadEntries: 1024,
});

/**
 * Fills the limits a caller left out with the defaults and checks the ones given.
 * @param limits - the caller's limits, any subset.
 * @returns every limit.
 */
export function resolveLimits(limits: Partial<RelayLimits> = {}): RelayLimits {
  const resolved = { ...DEFAULT_RELAY_LIMITS };
  for (const [name, value] of Object.entries(limits) as Array<[keyof RelayLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_RELAY_LIMITS)) throw new StreamstraightError('BAD_REQUEST', `Unknown relay limit "${name}".`);
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new StreamstraightError('BAD_REQUEST', `The relay limit ${name} must be a number >= 0, got ${String(value)}.`);
    }
    resolved[name] = value;
  }
  return resolved;
}

/** How a limit is written on the command line. */
type LimitKind = 'count' | 'bytes' | 'duration';

/** The CLI flag of each limit (`--max-queued-bytes-per-reader 4194304`, `--slow-reader-timeout 10s`). */
export const LIMIT_FLAGS: Readonly<Record<keyof RelayLimits, { flag: string; kind: LimitKind; help: string }>> = Object.freeze({
  maxSubscriptionsPerConnection: { flag: 'max-subscriptions-per-connection', kind: 'count', help: 'streams one reader connection may read at once' },
  maxQueuedBytesPerReader: { flag: 'max-queued-bytes-per-reader', kind: 'bytes', help: 'bytes queued for one reader before it is dropped (SLOW_READER)' },
  slowReaderTimeoutMs: { flag: 'slow-reader-timeout', kind: 'duration', help: 'drop a reader whose queue made no progress for this long' },
  maxOpenStreamsPerConnection: { flag: 'max-open-streams-per-connection', kind: 'count', help: 'streams one producer connection may hold open' },
  maxOpenStreamsPerKey: { flag: 'max-open-streams-per-key', kind: 'count', help: 'streams one API key may hold open on this relay' },
  maxStreamBytes: { flag: 'max-stream-bytes', kind: 'bytes', help: 'bytes one stream may hold' },
  maxStoredBytesPerKey: { flag: 'max-stored-bytes-per-key', kind: 'bytes', help: "bytes one API key's streams may hold on this relay" },
  maxChunksPerSecondPerConnection: { flag: 'max-chunks-per-second-per-connection', kind: 'count', help: 'chunks per second one producer connection may send (0: off)' },
  maxMemoryStoreBytes: { flag: 'max-memory-store-bytes', kind: 'bytes', help: 'bytes the memory store may hold before it refuses new streams' },
  handshakeTimeoutMs: { flag: 'handshake-timeout', kind: 'duration', help: 'close a connection that has not completed its HTTP request or Socket.IO connect by then' },
  maxConnectionsPerIp: { flag: 'max-connections-per-ip', kind: 'count', help: 'TCP connections one IP may hold (0: off; raise it behind a proxy)' },
  maxFailedHandshakesPerIp: { flag: 'max-failed-handshakes-per-ip', kind: 'count', help: 'refused handshakes per IP per window before its handshakes get 429 (0: off)' },
  maxFailedHandshakesPerKey: { flag: 'max-failed-handshakes-per-key', kind: 'count', help: 'refusals of one wrong API key or token per window before it is refused unchecked (0: off)' },
  failedHandshakeWindowMs: { flag: 'failed-handshake-window', kind: 'duration', help: 'the window of --max-failed-handshakes-per-ip and -per-key' },
  maxTokenRequestsPerKeyPerSecond: { flag: 'max-token-requests-per-key-per-second', kind: 'count', help: 'POST /v1/token requests per second per API key (0: off)' },
  saturationDelayMs: { flag: 'saturation-delay', kind: 'duration', help: 'event loop delay p99 above which the relay reports itself saturated' },
  maxPayloadDepth: { flag: 'max-payload-depth', kind: 'count', help: 'deepest nesting of arrays and objects in a client payload' },
  maxPayloadEntries: { flag: 'max-payload-entries', kind: 'count', help: 'most entries of one array or object in a client payload' },
});

/** `parseArgs` options for every limit flag. */
export function limitArgOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(Object.values(LIMIT_FLAGS).map(({ flag }) => [flag, { type: 'string' as const }]));
}

/** The `--help` lines of the limit flags. */
export function limitUsage(): string {
  return Object.entries(LIMIT_FLAGS)
    .map(([name, { flag, kind, help }]) => {
      const value = DEFAULT_RELAY_LIMITS[name as keyof RelayLimits];
      const shown = kind === 'duration' ? `${value / 1000}s` : String(value);
      return `  --${flag} <${kind === 'duration' ? 'd' : 'n'}>\n${' '.repeat(29)}${help} (default ${shown}, env ${limitEnvName(flag)})`;
    })
    .join('\n');
}

/** The environment variable of a limit flag: `--slow-reader-timeout` → `SS_SLOW_READER_TIMEOUT`. */
export function limitEnvName(flag: string): string {
  return `SS_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Reads the limit flags `parseArgs` found, and their environment variables (a flag wins).
 * @param values - `parseArgs(...).values`.
 * @param env - the environment (`process.env`).
 * @returns the limits given (the others keep their defaults).
 * @throws a `StreamstraightError` (`BAD_REQUEST`) naming the flag when a value does not parse.
 */
export function limitsFromArgs(values: Record<string, unknown>, env: Record<string, string | undefined> = {}): Partial<RelayLimits> {
  const limits: Partial<RelayLimits> = {};
  for (const [name, { flag, kind }] of Object.entries(LIMIT_FLAGS) as Array<[keyof RelayLimits, (typeof LIMIT_FLAGS)[keyof RelayLimits]]>) {
    const raw = values[flag] ?? (env[limitEnvName(flag)] || undefined);
    if (typeof raw !== 'string') continue;
    const value = kind === 'duration' ? parseDuration(raw) : Number(raw);
    if (value === undefined || !Number.isInteger(value) || value < 0) {
      throw new StreamstraightError('BAD_REQUEST', `--${flag} must be ${kind === 'duration' ? 'a duration like 30s or 10m' : 'an integer >= 0'}, got "${raw}".`);
    }
    limits[name] = value;
  }
  return limits;
}
