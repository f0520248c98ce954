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
