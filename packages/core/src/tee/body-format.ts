/**
 * How the tee writes chunks into the HTTP response body: Server-Sent Events (default), plain
 * text, newline-delimited JSON, the Vercel AI SDK's UI message stream, or your own serializer.
 */
import { StreamstraightError } from '../errors.js';
import type { EndReason } from '../protocol.js';
import { textOf } from './tee-source.js';

/** How the HTTP body ended normally (a source error errors the body instead). */
export interface BodyEnd {
  /** `completed`, or `cancelled` when the source was stopped on purpose. */
  reason: Extract<EndReason, 'completed' | 'cancelled'>;
  /** The seq of the last chunk (-1 when there was none). */
  lastSeq: number;
}

/**
 * A custom body serializer.
 *
 * @example
 * ```ts
 * const aiSdkSse: BodyFormat<UIMessageChunk> = {
 *   contentType: 'text/event-stream',
 *   chunk: (chunk) => `data: ${JSON.stringify(chunk)}\n\n`,
 *   end: () => 'data: [DONE]\n\n',
 * }
 * ```
 */
export interface BodyFormat<T = unknown> {
  /** The `Content-Type` of the response. */
  contentType: string;
  /** Extra response headers this format needs (the tee's own and `options.headers` come after). */
  headers?: Record<string, string>;
  /**
   * Serializes one chunk. `data` is the chunk as the relay stores it (the encoder's output), `seq`
   * its number on the relay. Return `undefined` or `''` to write nothing for this chunk.
   */
  chunk(chunk: T, seq: number, data: string): string | Uint8Array | undefined;
  /** Written after the last chunk when the source ended normally or was cancelled. */
  end?(end: BodyEnd): string | Uint8Array | undefined;
}

/** The built-in body formats. */
export type BodyFormatName = 'sse' | 'text' | 'ndjson' | 'ui-message-stream';

const LINE_BREAK = /\r\n|\r|\n/;

/** One SSE event carrying `data` (split over `data:` lines where it has line breaks), with `id: <seq>`. */
function sseEvent(seq: number, data: string): string {
  return `id: ${seq}\ndata: ${data.split(LINE_BREAK).join('\ndata: ')}\n\n`;
}

/**
 * Server-Sent Events: one event per chunk, `id:` = the chunk's seq on the relay (so a page can
 * resume from the relay at `id + 1`), `data:` = the stored string; then `event: end` with
 * `{"reason","lastSeq"}`.
 */
export const SSE_FORMAT: BodyFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  chunk: (_chunk, seq, data) => sseEvent(seq, data),
  end: (end) => `event: end\ndata: ${JSON.stringify(end)}\n\n`,
};

/**
 * The Vercel AI SDK's UI message stream (what `result.toUIMessageStreamResponse()` sends and `useChat`'s
 * transports parse): one SSE event per chunk with `data:` = the chunk's JSON and `id:` = its seq on
 * the relay (so a client can continue from the relay at `id + 1`), then `data: [DONE]`, with the AI
 * SDK's response headers. Pass `result.toUIMessageStream()` as the source; the relay stores each
 * chunk as its JSON, so readers of the relay get the same UI message chunks.
 */
export const UI_MESSAGE_STREAM_FORMAT: BodyFormat = {
  contentType: 'text/event-stream',
  headers: { 'cache-control': 'no-cache', 'x-vercel-ai-ui-message-stream': 'v1', 'x-accel-buffering': 'no' },
  chunk: (_chunk, seq, data) => sseEvent(seq, data),
  end: () => 'data: [DONE]\n\n',
};

/** Plain text: the text of each chunk (strings, and AI SDK `text-delta` parts); other chunks write nothing. */
export const TEXT_FORMAT: BodyFormat = {
  contentType: 'text/plain; charset=utf-8',
  chunk: (chunk) => textOf(chunk),
};

/** Newline-delimited JSON: one `JSON.stringify(chunk)` line per chunk; line n is seq n. */
export const NDJSON_FORMAT: BodyFormat = {
  contentType: 'application/x-ndjson; charset=utf-8',
  chunk: (chunk) => `${JSON.stringify(chunk)}\n`,
};

/**
 * Resolves the `format` option of `teeStream`.
 * @param format - a built-in name or a custom serializer.
 * @returns the serializer.
 * @example
 * ```ts
 * resolveBodyFormat('ndjson').contentType // 'application/x-ndjson; charset=utf-8'
 * ```
 */
export function resolveBodyFormat<T>(format: BodyFormatName | BodyFormat<T> | undefined): BodyFormat<T> {
  if (format === undefined || format === 'sse') return SSE_FORMAT as BodyFormat<T>;
  if (format === 'text') return TEXT_FORMAT as BodyFormat<T>;
  if (format === 'ndjson') return NDJSON_FORMAT as BodyFormat<T>;
  if (format === 'ui-message-stream') return UI_MESSAGE_STREAM_FORMAT as BodyFormat<T>;
  if (typeof format === 'object' && format !== null && typeof format.chunk === 'function' && typeof format.contentType === 'string') {
    return format;
  }
  throw new StreamstraightError('BAD_REQUEST', `format must be 'sse', 'text', 'ndjson', 'ui-message-stream' or { contentType, chunk(), end?() }, got ${JSON.stringify(format)}.`);
}
