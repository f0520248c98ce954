/**
 * `streamstraightServer()`: the producer API, shaped like the hosted Streamstraight Node SDK.
 */
import { StreamstraightError } from '../errors.js';
import { BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MAX_CHUNK_BYTES, assertStreamId } from '../protocol.js';
import { acquireConnection, closeIfUnused, releaseConnection } from './connection-pool.js';
import type { ConnectionSettings, ProducerConnection } from './producer-connection.js';
import { type ChunkEncoder, ProducerStream, SEND_ACCEPTED } from './producer-stream.js';
import { STOP, type StreamSource, openSource, sourceError, untilStop } from './source.js';
import { StreamWriter } from './stream-writer.js';
import {
  type HttpStreamstraightServer,
  type HttpStreamstraightServerOptions,
  streamstraightHttpServer,
} from '../http-producer/http-streamstraight-server.js';

/** Connection options of {@link streamstraightServer}. */
export interface StreamstraightServerOptions {
  /** `'socket.io'` (default): one warm connection. For `'http'` see `HttpStreamstraightServerOptions`. */
  transport?: 'socket.io';
  /** The API key the relay is configured with (sent as `Authorization: Bearer`). Required. */
  apiKey: string;
  /** The relay URL. Default: `$STREAMSTRAIGHT_API_BASE_URL`, else `http://localhost:8787`. */
  baseUrl?: string;
  /** Reconnect attempts after the connection drops (or fails to open) before `RELAY_UNAVAILABLE`. Default 10. */
  retries?: number;
  /** First reconnect delay in ms; doubles each attempt, with jitter. Default 500. */
  retryBaseMs?: number;
  /** Largest reconnect delay in ms. Default 5000. */
  retryMaxMs?: number;
  /** How long to wait for the relay to acknowledge a frame before resyncing. Default 20000. */
  ackTimeoutMs?: number;
  /** Largest number of unacknowledged chunks per stream; `send()` waits beyond it. Default 1024. */
  windowSize?: number;
  /**
   * Largest summed UTF-8 size of the unacknowledged chunks per stream; `send()` waits beyond it
   * (a single larger chunk still goes into an empty window). Default: no byte limit.
   */
  windowBytes?: number;
  /**
   * Largest encoded chunk in UTF-8 bytes; a larger one is refused by `send()` with `CHUNK_TOO_LARGE`
   * before it reaches the relay, so the chunks around it are unaffected. Match the relay's
   * `maxChunkBytes`. Default 256 KiB (the relay's default).
   */
  maxChunkBytes?: number;
}

/** Options of one stream. */
export interface StreamOptions<T = unknown> {
  /** The stream id: 1–256 characters of `A-Z a-z 0-9 . _ : ~ -`. Required. */
  streamId: string;
  /** Turns a chunk into the stored string. Default `JSON.stringify`; an empty result skips the chunk. */
  encoder?: ChunkEncoder<T>;
  /** Replace a stream with the same id instead of failing with `STREAM_EXISTS`. Default false. */
  overwriteExistingStream?: boolean;
  /**
   * Keep holding the pooled connection after the stream ends (until `disconnect()`). Default
   * false: the handle lets go of it when its stream ends, and the pool keeps it warm for 15 s.
   */
  keepOpen?: boolean;
}

/** Default number of reconnect attempts. */
export const DEFAULT_RETRIES = 10;
/** Default first reconnect delay (ms). */
export const DEFAULT_RETRY_BASE_MS = 500;
/** Default largest reconnect delay (ms). */
export const DEFAULT_RETRY_MAX_MS = 5000;
/** Default ack timeout (ms). */
export const DEFAULT_ACK_TIMEOUT_MS = 20_000;
/** Default ack window per stream (chunks). */
export const DEFAULT_WINDOW_SIZE = 1024;

const ignore = (): void => {};
const defaultEncoder: ChunkEncoder = (chunk) => JSON.stringify(chunk);

function defaultBaseUrl(): string {
  const fromEnv = typeof process !== 'undefined' ? process.env?.[BASE_URL_ENV] : undefined;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_BASE_URL;
}

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StreamstraightError('BAD_REQUEST', `${name} must be a non-negative integer, got ${String(value)}.`);
  }
  return value;
}

interface ResolvedStreamOptions {
  streamId: string;
  encoder: ChunkEncoder;
  overwrite: boolean;
  keepOpen: boolean;
}

function resolveStreamOptions(options: StreamOptions<never> | undefined): ResolvedStreamOptions {
  if (options === undefined || typeof options !== 'object') {
    throw new StreamstraightError('BAD_REQUEST', 'Stream options are required: { streamId }.');
  }
  if (options.encoder !== undefined && typeof options.encoder !== 'function') {
    throw new StreamstraightError('BAD_REQUEST', 'encoder must be a function returning a string.');
  }
  return {
    streamId: assertStreamId(options.streamId),
    encoder: (options.encoder as ChunkEncoder | undefined) ?? defaultEncoder,
    overwrite: options.overwriteExistingStream === true,
    keepOpen: options.keepOpen === true,
  };
}

/**
 * A producer handle: streams to a relay over the pooled connection for its URL and API key.
 * Get one from {@link streamstraightServer}.
 *
 * @example
 * ```ts
 * await using server = await streamstraightServer({ apiKey }, { streamId: chatId })
 * await server.stream(llmResponse) // resolves when the relay acknowledged the end
 * ```
 */
export class StreamstraightServer implements AsyncDisposable {
  readonly #settings: ConnectionSettings;
  readonly #ackTimeoutMs: number;
  readonly #windowSize: number;
  readonly #windowBytes: number;
  readonly #maxChunkBytes: number;
  #stream: ResolvedStreamOptions;
  #controller = new AbortController();
  #connection: ProducerConnection | undefined;
  /** The last connection used, held or not: `disconnect()` closes it when nobody else holds it. */
  #lastConnection: ProducerConnection | undefined;
  readonly #live = new Set<ProducerStream>();

  /**
   * @internal Use {@link streamstraightServer}.
   * @param options - connection options.
   * @param streamOptions - the first stream.
   */
  constructor(options: StreamstraightServerOptions, streamOptions: StreamOptions<never>) {
    if (typeof options !== 'object' || options === null || typeof options.apiKey !== 'string' || options.apiKey === '') {
      throw new StreamstraightError('UNAUTHORIZED', 'streamstraightServer: apiKey is required.');
    }
    const baseUrl = options.baseUrl ?? defaultBaseUrl();
    try {
      new URL(baseUrl);
    } catch (error) {
      throw new StreamstraightError('BAD_REQUEST', `streamstraightServer: baseUrl ${JSON.stringify(baseUrl)} is not a URL.`, { cause: error });
    }
    this.#settings = {
      baseUrl,
      apiKey: options.apiKey,
      retries: nonNegativeInteger(options.retries, DEFAULT_RETRIES, 'retries'),
      retryBaseMs: nonNegativeInteger(options.retryBaseMs, DEFAULT_RETRY_BASE_MS, 'retryBaseMs'),
      retryMaxMs: nonNegativeInteger(options.retryMaxMs, DEFAULT_RETRY_MAX_MS, 'retryMaxMs'),
    };
    this.#ackTimeoutMs = nonNegativeInteger(options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 'ackTimeoutMs') || DEFAULT_ACK_TIMEOUT_MS;
    this.#windowSize = nonNegativeInteger(options.windowSize, DEFAULT_WINDOW_SIZE, 'windowSize') || DEFAULT_WINDOW_SIZE;
    this.#windowBytes =
      options.windowBytes === undefined ? Number.POSITIVE_INFINITY : nonNegativeInteger(options.windowBytes, 0, 'windowBytes') || Number.POSITIVE_INFINITY;
    this.#maxChunkBytes = nonNegativeInteger(options.maxChunkBytes, DEFAULT_MAX_CHUNK_BYTES, 'maxChunkBytes') || DEFAULT_MAX_CHUNK_BYTES;
    this.#stream = resolveStreamOptions(streamOptions);
  }

  /** The id of the current stream (set by `streamstraightServer()` or `connect()`). */
  get streamId(): string {
    return this.#stream.streamId;
  }

  /**
   * Aborted when a reader cancels the current stream through the relay (`mux:cancel`). Pass it to
   * your LLM call so a cancel stops the generation. A new signal comes with each `connect()`.
   */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Switches the handle to another stream (and connects when needed).
   * @param streamOptions - the next stream; omit to reconnect for the current one.
   * @returns a promise that resolves once the connection is up.
   * @example
   * ```ts
   * await server.connect({ streamId: 'next' })
   * ```
   */
  async connect<T = unknown>(streamOptions?: StreamOptions<T>): Promise<void> {
    if (streamOptions !== undefined) {
      this.#stream = resolveStreamOptions(streamOptions);
      this.#controller = new AbortController();
    }
    await this.#acquire().ready();
  }

  /**
   * Starts the current stream and returns a writer for it. On a warm connection the open is
   * pipelined with the first chunks: no round trip before `send()`.
   * @returns the writer.
   */
  streamWriter<T = unknown>(): StreamWriter<T> {
    return new StreamWriter<T>(this.#start());
  }

  /**
   * Streams `source` to the end, then ends the stream.
   *
   * - A reader's cancel stops reading the source (its iterator's `return()`), ends the stream with
   *   `cancelled`, and resolves.
   * - A source that throws ends the stream with `producer-error` and rejects with `PRODUCER_ERROR`.
   * - A relay failure stops the source and rejects with the relay's code.
   *
   * @param source - an async iterable, an iterable or a `ReadableStream`.
   * @returns a promise that resolves when the relay acknowledged the end.
   */
  async stream(source: StreamSource): Promise<void> {
    const stream = this.#start();
    let iterator: ReturnType<typeof openSource>;
    try {
      iterator = openSource(source);
    } catch (error) {
      await stream.end('producer-error').catch(ignore);
      throw error;
    }
    for (;;) {
      if (stream.settled || stream.cancelled) {
        iterator.return();
        break;
      }
      let result: IteratorResult<unknown> | typeof STOP;
      try {
        if (iterator.sync) result = iterator.next();
        else {
          const next = iterator.next();
          result = await untilStop(next, (stop) => stream.setStopListener(stop));
          stream.setStopListener(undefined);
          if (result === STOP) next.catch(ignore);
        }
      } catch (error) {
        stream.setStopListener(undefined);
        await stream.end('producer-error').catch(ignore);
        throw sourceError(error, stream.streamId);
      }
      if (result === STOP) {
        iterator.return();
        break;
      }
      if (result.done) break;
      const accepted = stream.send(result.value);
      if (accepted !== SEND_ACCEPTED) {
        try {
          await accepted;
        } catch (error) {
          if (stream.cancelled && !stream.settled) {
            iterator.return();
            break;
          }
          iterator.return();
          if (!stream.settled) await stream.end('producer-error').catch(ignore); // the encoder threw
          throw error;
        }
      }
    }
    if (stream.error !== undefined) throw stream.error;
    await stream.end(stream.cancelled ? 'cancelled' : 'completed');
  }

  /**
   * Lets go of the connection. Streams of this handle that are still open are ended with
   * `producer-disconnected` (waiting at most the ack timeout); the pooled connection closes at
   * once when no other handle holds it.
   * @returns a promise that resolves when done.
   */
  async disconnect(): Promise<void> {
    const live = [...this.#live];
    if (live.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(live.map((stream) => stream.end('producer-disconnected').catch(ignore))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.#ackTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
      for (const stream of live) stream.fail(new StreamstraightError('CLOSED', `The producer disconnected before stream ${stream.streamId} ended.`));
    }
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) releaseConnection(connection, true);
    const last = this.#lastConnection;
    this.#lastConnection = undefined;
    if (last !== undefined) closeIfUnused(last);
  }

  /** Disconnects (`await using server = await streamstraightServer(…)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  #acquire(): ProducerConnection {
    const held = this.#connection;
    if (held !== undefined && !held.isClosed) return held;
    if (held !== undefined) releaseConnection(held);
    const connection = acquireConnection(this.#settings);
    this.#connection = connection;
    this.#lastConnection = connection;
    return connection;
  }

  #start(): ProducerStream {
    const connection = this.#acquire();
    const options = this.#stream;
    let stream: ProducerStream | undefined;
    let settledEarly = false;
    const onSettled = (): void => {
      if (stream === undefined) {
        settledEarly = true;
        return;
      }
      this.#live.delete(stream);
      if (this.#live.size === 0 && !options.keepOpen && this.#connection === connection) {
        this.#connection = undefined;
        releaseConnection(connection);
      }
    };
    stream = new ProducerStream(connection, {
      streamId: options.streamId,
      encoder: options.encoder,
      overwrite: options.overwrite,
      windowSize: this.#windowSize,
      windowBytes: this.#windowBytes,
      maxChunkBytes: this.#maxChunkBytes,
      ackTimeoutMs: this.#ackTimeoutMs,
      retries: this.#settings.retries,
      retryBaseMs: this.#settings.retryBaseMs,
      controller: this.#controller,
      onSettled,
    });
    if (!settledEarly) this.#live.add(stream);
    return stream;
  }
}

/**
 * Connects a producer to the relay (reusing the process's warm connection for the same URL and
 * API key) and prepares `streamOptions.streamId`.
 *
 * @param options - `apiKey` (required), `baseUrl`, `retries`, `retryBaseMs`, `retryMaxMs`, `ackTimeoutMs`, `windowSize`, `windowBytes`.
 * @param streamOptions - `streamId` (required), `encoder`, `overwriteExistingStream`, `keepOpen`.
 * @returns the handle, once the connection is up. Rejects with `UNAUTHORIZED` when the relay
 * refuses the API key, `RELAY_UNAVAILABLE` when it cannot be reached within the retry budget,
 * `INVALID_STREAM_ID` for a bad id.
 * @example
 * ```ts
 * const server = await streamstraightServer({ apiKey: process.env.SS_API_KEY! }, { streamId: 'chat-42' })
 * await server.stream(llm.stream(prompt, { signal: server.signal }))
 * ```
 */
export async function streamstraightServer<T = unknown>(
  options: HttpStreamstraightServerOptions,
  streamOptions: StreamOptions<T>,
): Promise<HttpStreamstraightServer>;
export async function streamstraightServer<T = unknown>(
  options: StreamstraightServerOptions,
  streamOptions: StreamOptions<T>,
): Promise<StreamstraightServer>;
export async function streamstraightServer<T = unknown>(
  options: StreamstraightServerOptions | HttpStreamstraightServerOptions,
  streamOptions: StreamOptions<T>,
): Promise<StreamstraightServer | HttpStreamstraightServer> {
  // `transport: 'http'`: the fetch-only producer (import it from `@ss/core/http` to load no Socket.IO at all).
  if ((options as { transport?: unknown } | null)?.transport === 'http') {
    return streamstraightHttpServer(options as HttpStreamstraightServerOptions, streamOptions);
  }
  const server = new StreamstraightServer(options as StreamstraightServerOptions, streamOptions);
  try {
    await server.connect();
  } catch (error) {
    await server.disconnect();
    throw error;
  }
  return server;
}
