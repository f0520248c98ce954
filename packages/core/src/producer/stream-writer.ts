/**
 * The push-style face of one stream: `send()` chunks, then `close()` (or `abort()`).
 */
import type { ProducerStream } from './producer-stream.js';

const ignore = (): void => {};

/**
 * Writes one stream chunk by chunk. Get one from `server.streamWriter()`.
 *
 * - `send()` resolves as soon as the chunk is in the ack window (at once while the window has
 *   room; later when it is full: that is the backpressure). It rejects when the stream failed.
 * - `close()` resolves when the relay acknowledged every chunk and the end (`completed`).
 * - `abort()` ends the stream with `producer-error` once the chunks already sent are stored.
 *
 * @example
 * ```ts
 * await using writer = server.streamWriter()
 * for await (const part of llm) await writer.send(part)
 * // disposal closes the stream; call writer.close() yourself to handle its errors
 * ```
 */
export class StreamWriter<T = unknown> implements AsyncDisposable {
  readonly #stream: ProducerStream;

  /**
   * @internal Use `server.streamWriter()`.
   * @param stream - the stream's state machine.
   */
  constructor(stream: ProducerStream) {
    this.#stream = stream;
  }

  /** The id of the stream being written. */
  get streamId(): string {
    return this.#stream.streamId;
  }

  /** Aborted (with a `STREAM_CANCELLED` error as its reason) when a reader cancels the stream. */
  get signal(): AbortSignal {
    return this.#stream.signal;
  }

  /**
   * Resolves once the relay acknowledged the stream's open: from then on, status requests and
   * readers on any relay node see the stream. Rejects with the stream's failure when it fails
   * before that (`STREAM_EXISTS` for an id in use, `UNAUTHORIZED`, `RELAY_UNAVAILABLE`…). Awaiting
   * it is optional: `send()` never waits for the open (it is pipelined with the first chunks).
   * @example
   * ```ts
   * const writer = server.streamWriter()
   * await writer.opened // the stream id is ours; now start the expensive work
   * ```
   */
  get opened(): Promise<void> {
    return this.#stream.whenOpened;
  }

  /** Whether the stream ended or failed. */
  get closed(): boolean {
    return this.#stream.settled;
  }

  /**
   * Encodes and queues a chunk (an empty encoding is skipped).
   * @param chunk - the chunk.
   * @returns a promise that resolves when the chunk is in the ack window.
   */
  send(chunk: T): Promise<void> {
    return this.#stream.send(chunk);
  }

  /**
   * Ends the stream, by default with `completed` (always `cancelled` when a reader cancelled it).
   * @param reason - `completed` (default), `cancelled` (your app stopped the stream on purpose) or
   * `producer-error` (like `abort()`, but rejecting when the end could not be stored).
   * @returns a promise that resolves when every chunk and the end are acknowledged; it rejects
   * with a `StreamstraightError` when the stream failed (`RELAY_UNAVAILABLE`, `STREAM_EXISTS`…).
   */
  close(reason: 'completed' | 'cancelled' | 'producer-error' = 'completed'): Promise<void> {
    return this.#stream.end(reason);
  }

  /**
   * Ends the stream with `producer-error`, for a source that failed. Never rejects.
   * @param _reason - why (for your own logs; the wire carries only the end reason).
   * @returns a promise that resolves when the stream ended or failed.
   */
  abort(_reason?: unknown): Promise<void> {
    return this.#stream.end('producer-error').then(ignore, ignore);
  }

  /** Closes the stream if it is not closed yet (`await using writer = server.streamWriter()`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
