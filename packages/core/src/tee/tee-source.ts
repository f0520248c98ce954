/**
 * What `teeStream` reads: anything `server.stream()` reads, plus a Vercel AI SDK `streamText()`
 * result (its `textStream` is read).
 */
import type { StreamSource } from '../producer/source.js';

/**
 * A result object in the shape of the Vercel AI SDK's `streamText()` result: its `textStream`
 * (an `AsyncIterable<string>` that is also a `ReadableStream<string>`) is what the tee reads. For
 * tool calls and the UI message protocol pass `result.toUIMessageStream()` or `result.fullStream`
 * instead: those are plain streams.
 */
export interface TextStreamResult {
  readonly textStream: AsyncIterable<string> | ReadableStream<string>;
}

/** What `teeStream` accepts: an async iterable, an iterable, a `ReadableStream`, or an AI SDK–style result. */
export type TeeSource<T = unknown> = StreamSource<T> | TextStreamResult;

function isTextStreamResult(value: unknown): value is TextStreamResult {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<PropertyKey, unknown>;
  if (typeof record[Symbol.asyncIterator] === 'function' || typeof record[Symbol.iterator] === 'function' || typeof record.getReader === 'function') {
    return false;
  }
  return 'textStream' in record;
}

/**
 * Turns a {@link TeeSource} into a stream source (an AI SDK result becomes its `textStream`).
 * @param source - what the app passed.
 * @returns the stream to read.
 * @example
 * ```ts
 * resolveTeeSource(streamText({ model, prompt })) // → result.textStream
 * ```
 */
export function resolveTeeSource<T>(source: TeeSource<T>): StreamSource<T> {
  return isTextStreamResult(source) ? (source.textStream as StreamSource<T>) : source;
}

/**
 * The text a chunk contributes to the answer: a string itself; an AI SDK `text-delta` part its
 * `delta` (UI message stream) or `text` (full stream); anything else nothing.
 * @param chunk - a chunk of the source.
 * @returns its text, possibly empty.
 * @example
 * ```ts
 * textOf({ type: 'text-delta', id: 't', delta: 'Hi' }) // 'Hi'
 * ```
 */
export function textOf(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (typeof chunk === 'object' && chunk !== null && (chunk as { type?: unknown }).type === 'text-delta') {
    const part = chunk as { delta?: unknown; text?: unknown };
    if (typeof part.delta === 'string') return part.delta;
    if (typeof part.text === 'string') return part.text;
  }
  return '';
}
