/**
 * `teeStream()`: read a source once and send every chunk both to an HTTP response body and to the
 * relay, so the browser that asked gets the answer directly while any other reader (a reloaded
 * tab, a second device) gets it from the relay — and the browser leaving stops nothing.
 *
 * ```
 *   source ──► pump ──► HTTP branch  (bounded queue → ReadableStream body; detachable)
 *                  └──► relay branch (the producer's ack window, bounded; resends after reconnects)
 * ```
 *
 * Rules:
 * - One pump reads the source to the end exactly once. Only `options.signal` and a reader's cancel
 *   through the relay stop it early; cancelling the body detaches the HTTP branch and nothing else.
 * - Neither branch waits for the other. The relay branch holds up to `relayBufferChunks` /
 *   `relayBufferBytes` unacknowledged chunks (the producer resends them after a reconnect); when a
 *   client is still attached and that buffer is full, the relay branch is given up (reported, never
 *   silent) instead of stalling the response. With no client attached the pump waits for the relay.
 * - The HTTP branch queues up to `responseBufferBytes` for a slow client, then cuts the response.
 */
import { StreamstraightError } from '../errors.js';
import { type ChunkEncoder, SEND_ACCEPTED } from '../producer/producer-stream.js';
import { STOP, openSource, sourceError, untilStop } from '../producer/source.js';
import type { StreamWriter } from '../producer/stream-writer.js';
import { StreamstraightServer, type StreamstraightServerOptions } from '../producer/streamstraight-server.js';
import { DEFAULT_MAX_CHUNK_BYTES, utf8ByteLength } from '../protocol.js';
import { type BodyFormat, type BodyFormatName, resolveBodyFormat } from './body-format.js';
import { ResponseBranch, type ResponseOutcome } from './response-branch.js';
import { type TeeSource, resolveTeeSource, textOf } from './tee-source.js';

/** The response header that carries the stream id (exposed to browsers through CORS). */
export const STREAM_ID_HEADER = 'x-stream-id';
/** Default most unacknowledged chunks the relay branch holds while the relay is slow or down. */
export const DEFAULT_RELAY_BUFFER_CHUNKS = 10_000;
/** Default most unacknowledged bytes (UTF-8) the relay branch holds. */
export const DEFAULT_RELAY_BUFFER_BYTES = 16 * 1024 * 1024;
/** Default most bytes queued for a slow HTTP client before its response is cut. */
export const DEFAULT_RESPONSE_BUFFER_BYTES = 4 * 1024 * 1024;

/** Options of {@link teeStream}: the producer's connection options plus the tee's own. */
export interface TeeOptions<T = unknown> extends Omit<StreamstraightServerOptions, 'windowSize' | 'windowBytes'> {
  /** The stream id on the relay. Default: a random UUID. The response carries it in `x-stream-id`. */
  streamId?: string;
  /** Turns a chunk into the string the relay stores. Default `JSON.stringify`; an empty result skips the chunk in both branches. */
  encoder?: ChunkEncoder<T>;
  /** Replace a stream with the same id instead of failing the relay branch with `STREAM_EXISTS`. Default false. */
  overwriteExistingStream?: boolean;
  /**
   * The body format: `'sse'` (default), `'text'`, `'ndjson'`, `'ui-message-stream'` (the Vercel AI SDK's
   * UI message stream: pass `result.toUIMessageStream()` as the source), or a custom {@link BodyFormat}.
   */
  format?: BodyFormatName | BodyFormat<T>;
  /**
   * Stops reading the source on purpose (the relay stream then ends `cancelled`). A client disconnect
   * never does — so do not pass the request's own signal, which aborts when the client leaves.
   */
  signal?: AbortSignal;
  /** Extra response headers (they override the tee's own). */
  headers?: Record<string, string>;
  /** Called exactly once, after the source is finished and the relay branch settled. `done` waits for it. */
  onFinish?: (result: TeeResult<T>) => unknown;
  /**
   * Called when the source fails (`PRODUCER_ERROR`) and when the relay branch fails (its code: a
   * wrong API key, `STREAM_EXISTS`, the relay unreachable…). Without it, a relay failure is logged
   * once per stream with `console.error`, so a misconfigured relay never goes unnoticed.
   */
  onError?: (error: StreamstraightError) => unknown;
  /**
   * Called once when a reader cancels the stream through the relay (the tee then stops reading the
   * source and the stream ends `cancelled`). Abort your model call here, for example the
   * `AbortController` whose signal you gave `streamText({ abortSignal })`.
   */
  onCancel?: (reason: StreamstraightError) => unknown;
  /** Most unacknowledged chunks the relay branch holds. Default {@link DEFAULT_RELAY_BUFFER_CHUNKS}. */
  relayBufferChunks?: number;
  /** Most unacknowledged bytes the relay branch holds. Default {@link DEFAULT_RELAY_BUFFER_BYTES}. */
  relayBufferBytes?: number;
  /** Most bytes queued for a slow HTTP client before its response is cut. Default {@link DEFAULT_RESPONSE_BUFFER_BYTES}. */
  responseBufferBytes?: number;
}

/** What a tee did, given to `onFinish` and resolved by `done`. */
export interface TeeResult<T = unknown> {
  /** The stream id on the relay. */
  streamId: string;
  /** Every chunk read from the source (those the encoder skipped excluded), in order. */
  chunks: T[];
  /** The text of the answer: string chunks and AI SDK `text-delta` parts, joined. */
  text: string;
  /** The seq of the last chunk (-1 when there was none). */
  lastSeq: number;
  /** Whether the source was stopped on purpose (`signal`, or a reader's cancel through the relay). */
  cancelled: boolean;
  /** The source's failure, if it failed (`PRODUCER_ERROR`, or `BAD_REQUEST` for an encoder error). */
  error: StreamstraightError | undefined;
  /** `'ok'` when the relay stored every chunk and the end; otherwise why it did not. */
  relay: 'ok' | StreamstraightError;
  /** How the HTTP branch ended. */
  response: ResponseOutcome;
}

/** What {@link teeStream} returns. */
export interface TeeStream<T = unknown> {
  /** The stream id on the relay. */
  readonly streamId: string;
  /** The HTTP response body. */
  readonly body: ReadableStream<Uint8Array>;
  /** The response headers: content type, no caching, `x-stream-id` (and its CORS exposure). */
  readonly headers: Record<string, string>;
  /** Settles (never rejects) when the source is finished, the relay branch settled and `onFinish` returned. Keep the process alive until then (`waitUntil`, `after()`). */
  readonly done: Promise<TeeResult<T>>;
}

const ignore = (): void => {};
const defaultEncoder: ChunkEncoder = (chunk) => JSON.stringify(chunk);
const passThrough: ChunkEncoder<string> = (data) => data;

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new StreamstraightError('BAD_REQUEST', `${name} must be a positive integer, got ${String(value)}.`);
  return value;
}

function callSafely(callback: ((value: never) => unknown) | undefined, value: unknown, onFailure: (error: unknown) => void): Promise<void> {
  if (callback === undefined) return Promise.resolve();
  try {
    return Promise.resolve((callback as (value: unknown) => unknown)(value)).then(ignore, onFailure);
  } catch (error) {
    onFailure(error);
    return Promise.resolve();
  }
}

/**
 * Tees a source to an HTTP response body and to the relay. Framework adapters wrap this; use it
 * directly in any runtime with Web streams.
 *
 * @param source - an async iterable, an iterable, a `ReadableStream`, or an AI SDK `streamText()` result.
 * @param options - `apiKey` (required), `baseUrl`, `streamId`, `format`, `signal`, `onFinish`, `onError`, buffer limits.
 * @returns the body, its headers, the stream id and `done`.
 * @throws StreamstraightError `UNAUTHORIZED` without an API key, `INVALID_STREAM_ID`, `BAD_REQUEST` for a bad source or option.
 * @example
 * ```ts
 * const tee = teeStream(llm.stream(prompt), { apiKey, streamId: chatId, onFinish: ({ text }) => save(chatId, text) })
 * waitUntil(tee.done)
 * return new Response(tee.body, { headers: tee.headers })
 * ```
 */
export function teeStream<T = unknown>(source: TeeSource<T>, options: TeeOptions<T>): TeeStream<T> {
  if (typeof options !== 'object' || options === null) throw new StreamstraightError('BAD_REQUEST', 'teeStream(source, options): options are required ({ apiKey }).');
  if (options.encoder !== undefined && typeof options.encoder !== 'function') throw new StreamstraightError('BAD_REQUEST', 'encoder must be a function returning a string.');
  const streamId = options.streamId ?? crypto.randomUUID();
  const format = resolveBodyFormat(options.format);
  const encoder = (options.encoder ?? defaultEncoder) as ChunkEncoder<T>;
  const maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  const server = new StreamstraightServer(
    {
      ...options,
      windowSize: positive(options.relayBufferChunks, DEFAULT_RELAY_BUFFER_CHUNKS, 'relayBufferChunks'),
      windowBytes: positive(options.relayBufferBytes, DEFAULT_RELAY_BUFFER_BYTES, 'relayBufferBytes'),
    },
    { streamId, encoder: passThrough as ChunkEncoder<never>, overwriteExistingStream: options.overwriteExistingStream === true },
  );
  const response = new ResponseBranch(positive(options.responseBufferBytes, DEFAULT_RESPONSE_BUFFER_BYTES, 'responseBufferBytes'));
  const iterator = openSource(resolveTeeSource(source));
  const writer: StreamWriter<string> = server.streamWriter<string>();

  const result: TeeResult<T> = { streamId, chunks: [], text: '', lastSeq: -1, cancelled: false, error: undefined, relay: 'ok', response: 'completed' };
  let relayFailure: StreamstraightError | undefined;
  let stopRequested = false;
  let wake: (() => void) | undefined;

  const logCallbackFailure = (error: unknown) => console.error('[streamstraight] teeStream onError threw:', error);
  const reportError = (error: StreamstraightError): void => {
    void callSafely(options.onError, error, logCallbackFailure);
  };
  const failRelay = (error: unknown): void => {
    const failure = StreamstraightError.from(error);
    if (relayFailure !== undefined || (failure.code === 'STREAM_CANCELLED' && writer.signal.aborted)) return;
    relayFailure = failure;
    if (options.onError === undefined) {
      // Nobody listens: say it once for this stream rather than let the relay copy vanish silently.
      console.error(`[streamstraight] relay stream ${streamId} failed (${failure.code}): ${failure.message} — pass onError to handle relay failures yourself.`);
    }
    reportError(failure);
  };
  const giveUpRelay = (failure: StreamstraightError): void => {
    if (relayFailure !== undefined) return;
    failRelay(failure);
    // The relay keeps what was queued before the failure, then this stream ends producer-error.
    void writer.abort();
  };
  /** Hands a chunk to the relay branch; returns a promise only when the pump should wait for it. */
  const sendToRelay = (data: string): Promise<void> | undefined => {
    if (relayFailure !== undefined) return undefined;
    if (data.length * 3 > maxChunkBytes && utf8ByteLength(data) > maxChunkBytes) {
      // Skipping it would shift every later seq on the relay: give the relay branch up instead.
      giveUpRelay(new StreamstraightError('CHUNK_TOO_LARGE', `Chunk ${result.lastSeq} of stream ${streamId} is ${utf8ByteLength(data)} bytes, over the relay limit of ${maxChunkBytes}: the relay stream ends there with producer-error.`));
      return undefined;
    }
    const sent = writer.send(data);
    if (sent === SEND_ACCEPTED) return undefined;
    sent.catch(failRelay);
    if (writer.closed || writer.signal.aborted) return undefined; // failed or cancelled: the rejection or the stop says so
    if (response.attached) {
      giveUpRelay(
        new StreamstraightError(
          'RELAY_UNAVAILABLE',
          `The relay fell behind stream ${streamId} by more than the relay buffer (relayBufferChunks / relayBufferBytes) while the HTTP response was still being written: the relay stream ends after the chunks it holds, with producer-error.`,
        ),
      );
      return undefined;
    }
    return sent.then(ignore, ignore); // nobody reads the HTTP branch: wait for the relay
  };
  /** Waits for `promise`, or for a stop request (then returns STOP). */
  const untilStopped = <V>(promise: Promise<V>): Promise<V | typeof STOP> =>
    untilStop(promise, (stop) => {
      wake = stop;
    }).finally(() => {
      wake = undefined;
    });
  const stop = (): void => {
    stopRequested = true;
    wake?.();
  };
  const cancelledByReader = (): void => {
    const logCancelFailure = (error: unknown) => console.error('[streamstraight] teeStream onCancel threw:', error);
    void callSafely(options.onCancel, StreamstraightError.from(writer.signal.reason, 'STREAM_CANCELLED'), logCancelFailure);
    stop();
  };

  const pump = async (): Promise<TeeResult<T>> => {
    await Promise.resolve(); // start after teeStream() returned
    options.signal?.addEventListener('abort', stop, { once: true });
    writer.signal.addEventListener('abort', cancelledByReader, { once: true });
    if (options.signal?.aborted) stop();
    try {
      for (;;) {
        if (stopRequested) {
          iterator.return();
          break;
        }
        let next: IteratorResult<T> | typeof STOP;
        try {
          if (iterator.sync) next = iterator.next();
          else {
            const pending = iterator.next();
            next = await untilStopped(pending);
            if (next === STOP) pending.catch(ignore);
          }
        } catch (error) {
          result.error = sourceError(error, streamId);
          break;
        }
        if (next === STOP) continue; // the loop head stops the source
        if (next.done) break;
        const chunk = next.value;
        let data: string | undefined;
        try {
          data = encoder(chunk);
          if (data !== undefined && typeof data !== 'string') throw new TypeError(`the encoder returned ${typeof data}, not a string`);
        } catch (error) {
          result.error = StreamstraightError.from(error, 'BAD_REQUEST');
          iterator.return();
          break;
        }
        if (data === undefined || data === '') continue;
        const seq = ++result.lastSeq;
        result.chunks.push(chunk);
        result.text += textOf(chunk);
        if (response.attached) {
          try {
            response.write(format.chunk(chunk, seq, data));
          } catch (error) {
            response.error(error);
            reportError(StreamstraightError.from(error, 'BAD_REQUEST'));
          }
        }
        const wait = sendToRelay(data);
        if (wait !== undefined) await untilStopped(wait);
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      writer.signal.removeEventListener('abort', cancelledByReader);
    }
    result.cancelled = stopRequested;

    if (result.error !== undefined) {
      response.error(result.error);
      reportError(result.error);
    } else {
      let end: string | Uint8Array | undefined;
      try {
        end = format.end?.({ reason: stopRequested ? 'cancelled' : 'completed', lastSeq: result.lastSeq });
      } catch (error) {
        reportError(StreamstraightError.from(error, 'BAD_REQUEST'));
      }
      response.close(end);
    }
    if (relayFailure === undefined) {
      const reason = result.error !== undefined ? 'producer-error' : stopRequested ? 'cancelled' : 'completed';
      await writer.close(reason).catch(failRelay);
    }
    result.relay = relayFailure ?? 'ok';
    result.response = response.outcome;
    await callSafely(options.onFinish, result, (error) => reportError(StreamstraightError.from(error)));
    return result;
  };

  const done = pump().catch((error: unknown) => {
    // A bug in the tee itself: still settle, never reject (done is usually handed to waitUntil).
    result.error ??= StreamstraightError.from(error);
    return result;
  });

  const headers: Record<string, string> = {
    'content-type': format.contentType,
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    [STREAM_ID_HEADER]: streamId,
    'access-control-expose-headers': STREAM_ID_HEADER,
    ...format.headers,
    ...options.headers,
  };
  return { streamId, body: response.body, headers, done };
}
