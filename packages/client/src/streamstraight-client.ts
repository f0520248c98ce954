import { assertStreamId, type EndReason, StreamstraightError } from '@ss/core/protocol';
import { FallbackStreamReader } from './internal/fallback-stream-reader.js';
import { SocketStreamReader } from './internal/socket-stream-reader.js';
import { SseStreamReader } from './internal/sse-stream-reader.js';

/**
 * Where a reader stands:
 * - `connecting` — first connect and subscribe (also while waiting for a stream that does not exist yet);
 * - `live` — subscribed: stored chunks, then live ones, are arriving;
 * - `resuming` — the connection dropped; reconnecting to resubscribe at the next chunk;
 * - `ended` — the relay said the stream ended (see `endReason`); buffered chunks can still be read;
 * - `closed` — closed by `close()`, by breaking out of `for await`, or by an error (see `error`).
 */
export type ReaderStatus = 'connecting' | 'live' | 'resuming' | 'ended' | 'closed';

/** A Socket.IO transport. */
export type ReaderTransport = 'websocket' | 'polling';

/**
 * How a reader reaches the relay:
 * - `auto` — Socket.IO over WebSocket, and Server-Sent Events when the WebSocket cannot connect
 *   (a proxy that blocks it) before anything was read;
 * - `socket.io` — Socket.IO only (`transports` picks WebSocket and/or long-polling);
 * - `sse` — Server-Sent Events only (`GET /v1/streams/:id/events` with `fetch`): no WebSocket at all.
 */
export type ClientTransport = 'auto' | 'socket.io' | 'sse';

/** How a reader reaches the relay: shared by every stream read with these options. */
export interface StreamstraightClientOptions<T = unknown> {
  /**
   * The relay URL, for example `https://relay.example.com` (a path prefix such as `/relay` is kept).
   * Required in browsers; in Node it defaults to `STREAMSTRAIGHT_API_BASE_URL`, then `http://localhost:8787`.
   */
  baseUrl?: string;
  /**
   * Gets a client token (a JWT minted by your app with `mintClientToken`). Called for the first
   * connect, again on a reconnect when the token is expired or within 30 s of expiry (a quarter of
   * its lifetime for short ones), and once more when the relay refuses a token as `UNAUTHORIZED`.
   * Throw a `StreamstraightError` with a non-retryable code (say `FORBIDDEN`) to stop the reader;
   * any other failure counts as a failed connection attempt and is retried.
   */
  fetchToken?: () => Promise<string>;
  /** A fixed client token, instead of `fetchToken`. It cannot be refreshed. */
  token?: string;
  /** Turns a chunk's string into a value. Default `JSON.parse` (the producer's default encoder is `JSON.stringify`). */
  decoder?: (data: string) => T;
  /** Consecutive failed connection attempts before the reader gives up with `RELAY_UNAVAILABLE`. Default `Infinity`. */
  retries?: number;
  /** First reconnect delay in ms; doubles per attempt, with jitter. Default 500. */
  retryBaseMs?: number;
  /** Largest reconnect delay in ms. Default 10 000. */
  retryMaxMs?: number;
  /**
   * Socket.IO transports in order of preference. Default `['websocket']` (no sticky sessions needed).
   * Pass `['websocket', 'polling']` to fall back to HTTP long-polling where WebSockets are blocked.
   */
  transports?: ReaderTransport[];
  /** `auto` (default), `socket.io` or `sse`; see {@link ClientTransport}. Over SSE, `cancel()` is an HTTP request. */
  transport?: ClientTransport;
  /** The `fetch` the `sse` transport uses. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** How long to wait for the relay to answer a subscribe or a cancel, in ms. Default 10 000. */
  ackTimeoutMs?: number;
}

/** Which stream to read, and from where. */
export interface StreamOptions {
  /** The stream id (1–256 characters of `A-Z a-z 0-9 . _ : ~ -`). */
  streamId: string;
  /** The first chunk to read. Default 0 (the whole stream); pass a saved `lastSeq + 1` to continue. */
  fromSeq?: number;
  /**
   * How long to keep asking for a stream the relay does not know yet, in ms, before failing with
   * `STREAM_NOT_FOUND`. Default 0: fail at once. Set it when a page may open the reader before the
   * producer has opened the stream.
   */
  waitForStreamMs?: number;
  /** Called on every status change. */
  onStatus?: (status: ReaderStatus, reader: StreamReader<unknown>) => void;
  /** Closes the reader when aborted (as `close()` does). */
  signal?: AbortSignal;
}

/**
 * One reader of one stream: an async iterator of decoded chunks, each exactly once and in order,
 * across reconnects. Iterate it with `for await` (one consumer at a time).
 */
export interface StreamReader<T = unknown> extends AsyncIterable<T>, AsyncDisposable {
  /** The stream being read. */
  readonly streamId: string;
  /** The seq of the last chunk handed to the consumer; `fromSeq - 1` before the first. Save it to resume later. */
  readonly lastSeq: number;
  /** Where the reader stands; see {@link ReaderStatus}. */
  readonly status: ReaderStatus;
  /** Why the stream ended, once the relay said so. */
  readonly endReason: EndReason | undefined;
  /** The error that closed the reader, if one did. */
  readonly error: StreamstraightError | undefined;
  /**
   * The next chunk. Resolves `done` after the stream completed (or was cancelled) and every chunk was
   * read; rejects with a `StreamstraightError` when the stream ended badly (`PRODUCER_ERROR`, see
   * `endReason`) or the reader cannot go on (`FORBIDDEN`, `STREAM_NOT_FOUND`, `UNAUTHORIZED`, …).
   */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Same as `close()`, for `for await` loops that `break`. */
  return(): Promise<IteratorResult<T, undefined>>;
  /** The reader itself (single consumer). */
  [Symbol.asyncIterator](): StreamReader<T>;
  /** Disconnects and ends the iteration at once; chunks not yet read are dropped. Idempotent. */
  close(): void;
  /**
   * Asks the producer to stop the stream (`consumer:cancel`; the token needs the cancel scope).
   * Reading goes on until the producer ends the stream, normally with reason `cancelled`.
   * @param reason - shown to the producer.
   */
  cancel(reason?: string): Promise<void>;
}

/**
 * Opens a reader of one stream on a relay. It connects at once, subscribes from `fromSeq`, and
 * resumes at the next chunk after any reconnect: the relay never sends the whole stream again.
 *
 * @param options - how to reach the relay: `baseUrl`, `fetchToken` (or `token`), `decoder`, retries.
 * @param stream - which stream: `streamId`, `fromSeq`, `onStatus`, `signal`.
 * @returns the reader, an async iterable of decoded chunks.
 * @throws StreamstraightError `INVALID_STREAM_ID` or `BAD_REQUEST` for bad options.
 *
 * @example
 * ```ts
 * const reader = streamstraightClient(
 *   { baseUrl: 'https://relay.example.com', fetchToken: () => fetch('/api/token').then((r) => r.text()) },
 *   { streamId, onStatus: (status) => setBadge(status) },
 * );
 * for await (const chunk of reader) append(chunk);
 * ```
 */
export function streamstraightClient<T = unknown>(options: StreamstraightClientOptions<T>, stream: StreamOptions): StreamReader<T> {
  if (typeof options !== 'object' || options === null || typeof stream !== 'object' || stream === null) {
    throw new StreamstraightError('BAD_REQUEST', 'streamstraightClient(options, { streamId }) takes two option objects.');
  }
  assertStreamId(stream.streamId);
  const transport = options.transport ?? 'auto';
  if (transport === 'sse') return new SseStreamReader<T>(options, stream);
  if (transport === 'socket.io') return new SocketStreamReader<T>(options, stream);
  if (transport !== 'auto') {
    throw new StreamstraightError('BAD_REQUEST', `Unknown \`transport\` ${JSON.stringify(transport)}: use 'auto', 'socket.io' or 'sse'.`);
  }
  return new FallbackStreamReader<T>(options, stream);
}
