/**
 * `streamstraightServer({ transport: 'http' })`: the producer over the relay's HTTP producer
 * routes, for runtimes that have `fetch` but cannot keep a Socket.IO connection open.
 */
import { StreamstraightError } from '../errors.js';
import { BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MAX_CHUNK_BYTES, type EndReason, assertStreamId } from '../protocol.js';
import type { ChunkEncoder } from '../producer/producer-stream.js';
import { type StreamSource, openSource, sourceError } from '../producer/source.js';
import { HttpStream } from './http-stream.js';

/** Options of the HTTP producer. */
export interface HttpStreamstraightServerOptions {
  /** Selects this producer. */
  transport: 'http';
  /** The API key the relay is configured with (sent as `Authorization: Bearer`). Required. */
  apiKey: string;
  /** The relay URL. Default: `$STREAMSTRAIGHT_API_BASE_URL` where `process.env` exists, else `http://localhost:8787`. */
  baseUrl?: string;
  /** Failed attempts in a row (no answer, 5xx, 429) before `RELAY_UNAVAILABLE`. Default 10. */
  retries?: number;
  /** First retry delay in ms; doubles each attempt, with jitter. Default 500. */
  retryBaseMs?: number;
  /** Largest retry delay in ms. Default 5000. */
  retryMaxMs?: number;
  /** A request with no answer for this long is abandoned and retried. Default 20 000. */
  requestTimeoutMs?: number;
  /** Largest number of unacknowledged chunks per stream; `send()` waits beyond it. Default 1024. */
  windowSize?: number;
  /** Largest chunks per request. Default 512. */
  maxBatchChunks?: number;
  /** Largest summed UTF-8 size of one request's chunks. Default 1 MiB (keep it under the relay's `http.maxRequestBytes`). */
  maxBatchBytes?: number;
  /** Largest encoded chunk; a larger one is refused by `send()` with `CHUNK_TOO_LARGE`. Default 256 KiB (the relay's default). */
  maxChunkBytes?: number;
  /** The `fetch` to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** Options of one stream (the same as the Socket.IO producer's). */
export interface HttpStreamOptions<T = unknown> {
  /** The stream id: 1–256 characters of `A-Z a-z 0-9 . _ : ~ -`. Required. */
  streamId: string;
  /** Turns a chunk into the stored string. Default `JSON.stringify`; an empty result skips the chunk. */
  encoder?: ChunkEncoder<T>;
  /** Replace a stream with the same id instead of failing with `STREAM_EXISTS`. Default false. */
  overwriteExistingStream?: boolean;
}

const defaultEncoder: ChunkEncoder = (chunk) => JSON.stringify(chunk);
const ignore = (): void => {};

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new StreamstraightError('BAD_REQUEST', `${name} must be a non-negative integer, got ${String(value)}.`);
  return value;
}

function defaultBaseUrl(): string {
  const fromEnv = typeof process !== 'undefined' ? process.env?.[BASE_URL_ENV] : undefined;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_BASE_URL;
}

/**
 * Writes one stream at a time, chunk by chunk, over the HTTP producer. Get one from
 * `streamstraightServer({ transport: 'http', apiKey }, { streamId })`.
 */
export class HttpStreamWriter<T = unknown> implements AsyncDisposable {
  readonly #stream: HttpStream;

  /** @internal */
  constructor(stream: HttpStream) {
    this.#stream = stream;
  }

  /** The id of the stream being written. */
  get streamId(): string {
    return this.#stream.streamId;
  }

  /** Aborted when the relay reports the stream cancelled by a reader (seen at the next request). */
  get signal(): AbortSignal {
    return this.#stream.signal;
  }

  /** Whether the stream ended or failed. */
  get closed(): boolean {
    return this.#stream.settled;
  }

  /**
   * Encodes and queues a chunk (an empty encoding is skipped).
   * @param chunk - the chunk.
   * @returns a promise that resolves when the chunk is queued (at once while the window has room).
   */
  send(chunk: T): Promise<void> {
    return this.#stream.send(chunk);
  }

  /**
   * Sends what is queued, then ends the stream.
   * @param reason - `completed` (default), `cancelled` or `producer-error`.
   * @returns a promise that resolves when the relay stored every chunk and the end.
   */
  close(reason: 'completed' | 'cancelled' | 'producer-error' = 'completed'): Promise<void> {
    return this.#stream.end(reason);
  }

  /**
   * Ends the stream with `producer-error`. Never rejects.
   * @returns a promise that resolves when the stream ended or failed.
   */
  abort(): Promise<void> {
    return this.#stream.end('producer-error').then(ignore, ignore);
  }

  /** Closes the stream if it is not closed yet. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#stream.settled ? Promise.resolve() : this.close();
  }
}

/**
 * The HTTP producer handle: the same `stream()`, `streamWriter()`, `connect()` and `disconnect()`
 * as the Socket.IO producer, over stateless `fetch` requests (no connection to keep).
 */
export class HttpStreamstraightServer implements AsyncDisposable {
  readonly #settings: Omit<ConstructorParameters<typeof HttpStream>[0], 'streamId' | 'encoder' | 'overwrite' | 'controller' | 'onSettled'>;
  #stream: { streamId: string; encoder: ChunkEncoder; overwrite: boolean };
  #controller = new AbortController();
  readonly #live = new Set<HttpStream>();

  /**
   * @internal Use `streamstraightServer({ transport: 'http', … })`.
   * @param options - connection options.
   * @param streamOptions - the first stream.
   */
  constructor(options: HttpStreamstraightServerOptions, streamOptions: HttpStreamOptions<never>) {
    if (typeof options !== 'object' || options === null || typeof options.apiKey !== 'string' || options.apiKey === '') {
      throw new StreamstraightError('UNAUTHORIZED', 'streamstraightServer: apiKey is required.');
    }
    const baseUrl = options.baseUrl ?? defaultBaseUrl();
    try {
      new URL(baseUrl);
    } catch (error) {
      throw new StreamstraightError('BAD_REQUEST', `streamstraightServer: baseUrl ${JSON.stringify(baseUrl)} is not a URL.`, { cause: error });
    }
    const fetchFunction = options.fetch ?? globalThis.fetch;
    if (typeof fetchFunction !== 'function') throw new StreamstraightError('BAD_REQUEST', 'streamstraightServer: this runtime has no fetch; pass options.fetch.');
    this.#settings = {
      baseUrl,
      apiKey: options.apiKey,
      retries: positiveInteger(options.retries, 10, 'retries'),
      retryBaseMs: positiveInteger(options.retryBaseMs, 500, 'retryBaseMs'),
      retryMaxMs: positiveInteger(options.retryMaxMs, 5000, 'retryMaxMs'),
      requestTimeoutMs: positiveInteger(options.requestTimeoutMs, 20_000, 'requestTimeoutMs') || 20_000,
      windowSize: positiveInteger(options.windowSize, 1024, 'windowSize') || 1024,
      maxBatchChunks: positiveInteger(options.maxBatchChunks, 512, 'maxBatchChunks') || 512,
      maxBatchBytes: positiveInteger(options.maxBatchBytes, 1024 * 1024, 'maxBatchBytes') || 1024 * 1024,
      maxChunkBytes: positiveInteger(options.maxChunkBytes, DEFAULT_MAX_CHUNK_BYTES, 'maxChunkBytes') || DEFAULT_MAX_CHUNK_BYTES,
      fetch: (input, init) => fetchFunction(input, init),
    };
    this.#stream = HttpStreamstraightServer.#resolve(streamOptions);
  }

  static #resolve(options: HttpStreamOptions<never> | undefined) {
    if (options === undefined || typeof options !== 'object') throw new StreamstraightError('BAD_REQUEST', 'Stream options are required: { streamId }.');
    if (options.encoder !== undefined && typeof options.encoder !== 'function') throw new StreamstraightError('BAD_REQUEST', 'encoder must be a function returning a string.');
    return {
      streamId: assertStreamId(options.streamId),
      encoder: (options.encoder as ChunkEncoder | undefined) ?? defaultEncoder,
      overwrite: options.overwriteExistingStream === true,
    };
  }

  /** The id of the current stream. */
  get streamId(): string {
    return this.#stream.streamId;
  }

  /** Aborted when the relay reports the current stream cancelled by a reader. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Switches the handle to another stream. There is no connection to open over HTTP.
   * @param streamOptions - the next stream; omit to keep the current one.
   */
  async connect<T = unknown>(streamOptions?: HttpStreamOptions<T>): Promise<void> {
    if (streamOptions !== undefined) {
      this.#stream = HttpStreamstraightServer.#resolve(streamOptions as HttpStreamOptions<never>);
      this.#controller = new AbortController();
    }
  }

  /**
   * Starts the current stream and returns a writer for it. The open goes with the first request.
   * @returns the writer.
   */
  streamWriter<T = unknown>(): HttpStreamWriter<T> {
    return new HttpStreamWriter<T>(this.#start());
  }

  /**
   * Streams `source` to the end, then ends the stream (`producer-error` and a `PRODUCER_ERROR`
   * rejection when the source throws; the relay's error when the relay refuses).
   * @param source - an async iterable, an iterable or a `ReadableStream`.
   * @returns a promise that resolves when the relay stored every chunk and the end.
   */
  async stream(source: StreamSource): Promise<void> {
    const stream = this.#start();
    const iterator = openSource(source);
    try {
      for (;;) {
        if (stream.settled || stream.cancelled) {
          iterator.return();
          break;
        }
        let result: IteratorResult<unknown>;
        try {
          result = iterator.sync ? iterator.next() : await iterator.next();
        } catch (error) {
          await stream.end('producer-error').catch(ignore);
          throw sourceError(error, stream.streamId);
        }
        if (result.done) break;
        await stream.send(result.value);
      }
    } catch (error) {
      iterator.return();
      // A reader cancelled the stream (the relay ended it): stop reading the source and resolve.
      if (stream.cancelled) return;
      if (StreamstraightError.isInstance(error) && error.code === 'PRODUCER_ERROR') throw error;
      if (!stream.settled) await stream.end('producer-error').catch(ignore);
      throw error;
    }
    const reason: EndReason = stream.cancelled ? 'cancelled' : 'completed';
    if (stream.cancelled && stream.settled) return;
    if (stream.error) throw stream.error;
    await stream.end(reason);
  }

  /** Ends the handle's open streams with `producer-disconnected` (waiting for their requests). */
  async disconnect(): Promise<void> {
    await Promise.all([...this.#live].map((stream) => stream.end('producer-disconnected').catch(ignore)));
  }

  /** Disconnects (`await using server = await streamstraightServer(…)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  #start(): HttpStream {
    const stream: HttpStream = new HttpStream({
      ...this.#settings,
      ...this.#stream,
      controller: this.#controller,
      onSettled: () => this.#live.delete(stream),
    });
    this.#live.add(stream);
    return stream;
  }
}

/**
 * Creates the HTTP producer. Nothing is sent until the first chunk (or the end).
 *
 * @param options - `transport: 'http'`, `apiKey` (required), `baseUrl`, retries, batching and window sizes, `fetch`.
 * @param streamOptions - `streamId` (required), `encoder`, `overwriteExistingStream`.
 * @returns the handle.
 * @example
 * ```ts
 * import { streamstraightServer } from '@ss/core/http'
 * const server = await streamstraightServer({ transport: 'http', apiKey: env.SS_API_KEY, baseUrl: env.RELAY_URL }, { streamId: 'chat-42' })
 * await server.stream(llm.textStream)
 * ```
 */
export async function streamstraightHttpServer<T = unknown>(
  options: HttpStreamstraightServerOptions,
  streamOptions: HttpStreamOptions<T>,
): Promise<HttpStreamstraightServer> {
  return new HttpStreamstraightServer(options, streamOptions as HttpStreamOptions<never>);
}
