/**
 * What `server.stream(source)` accepts, and one way to read all of it.
 */
import { StreamstraightError } from '../errors.js';

/** A source of chunks: an async iterable (an LLM SDK's stream), a plain iterable, or a Web `ReadableStream`. */
export type StreamSource<T = unknown> = AsyncIterable<T> | Iterable<T> | ReadableStream<T>;

/**
 * A uniform reader over a {@link StreamSource}. `sync` is true for plain iterables, whose `next()`
 * returns a result directly (no promise per chunk).
 */
export type SourceIterator<T> =
  | { sync: true; next(): IteratorResult<T>; return(): void }
  | { sync: false; next(): Promise<IteratorResult<T>>; return(): void };

function isReadableStream<T>(value: unknown): value is ReadableStream<T> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream<T>).getReader === 'function';
}

/**
 * Opens a {@link StreamSource} for reading. `return()` stops the source early (an iterator's
 * `return()`, a stream reader's `cancel()`); it never throws and is not awaited, since an async
 * generator only runs it after a pending `next()` settles.
 * @param source - the source.
 * @returns an iterator over its items.
 * @example
 * ```ts
 * const iterator = openSource(['a', 'b'])
 * ```
 */
export function openSource<T>(source: StreamSource<T>): SourceIterator<T> {
  if (typeof source === 'string') {
    // A string is iterable (by character), which is never what a caller of stream() means.
    throw new StreamstraightError('BAD_REQUEST', 'stream(source): pass an iterable of chunks, not a string; use [text] for one chunk');
  }
  if (typeof source !== 'object' || source === null) {
    throw new StreamstraightError('BAD_REQUEST', 'stream(source): expected an AsyncIterable, an Iterable or a ReadableStream');
  }
  if (isReadableStream<T>(source)) {
    const reader = source.getReader();
    return {
      sync: false,
      next: () => reader.read() as Promise<IteratorResult<T>>,
      return: () => {
        reader.cancel().catch(() => {});
      },
    };
  }
  if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    const iterator = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
    return {
      sync: false,
      next: () => iterator.next(),
      return: () => {
        try {
          Promise.resolve(iterator.return?.()).catch(() => {});
        } catch {
          // a source whose return() throws synchronously: nothing more to stop
        }
      },
    };
  }
  if (typeof (source as Iterable<T>)[Symbol.iterator] === 'function') {
    const iterator = (source as Iterable<T>)[Symbol.iterator]();
    return {
      sync: true,
      next: () => iterator.next(),
      return: () => {
        try {
          iterator.return?.();
        } catch {
          // ignored, as above
        }
      },
    };
  }
  throw new StreamstraightError('BAD_REQUEST', 'stream(source): expected an AsyncIterable, an Iterable or a ReadableStream');
}

/** What {@link untilStop} gives when the stop came first. */
export const STOP = Symbol('stop');

/**
 * Waits for `promise` (a source's next item) unless a stop comes first. `listen` is handed the
 * function that ends the wait with {@link STOP}; what `promise` does after that is ignored.
 * @param promise - what to wait for.
 * @param listen - registers the stop function where the stop request will find it.
 * @returns the promise's value, or {@link STOP}.
 */
export function untilStop<V>(promise: Promise<V>, listen: (stop: () => void) => void): Promise<V | typeof STOP> {
  return new Promise<V | typeof STOP>((resolve, reject) => {
    listen(() => resolve(STOP));
    promise.then(resolve, reject);
  });
}

/**
 * The error a failing source becomes: its own `StreamstraightError`, or `PRODUCER_ERROR` naming
 * the stream and the source's message.
 * @param error - what the source threw.
 * @param streamId - the stream it was feeding.
 */
export function sourceError(error: unknown, streamId: string): StreamstraightError {
  if (StreamstraightError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StreamstraightError('PRODUCER_ERROR', `The source of stream ${streamId} threw: ${message}`, { cause: error });
}
