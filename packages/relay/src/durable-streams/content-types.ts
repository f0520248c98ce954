/**
 * How a Durable Streams body becomes relay chunks and back. A stream's content type decides:
 *
 * - `application/json`: one chunk per message (a POSTed array is flattened one level), each the
 *   message's JSON text; reads answer a JSON array.
 * - `text/*`: one chunk per append, its UTF-8 text (a body that is not UTF-8 is refused).
 * - anything else (binary): one chunk per append, its bytes in base64.
 *
 * A stream written by a Socket.IO producer has no content type of its own: it reads as
 * `application/json`, one message per chunk (a chunk that is not JSON reads as a JSON string).
 */
import { StreamstraightError } from '@ss/core/protocol';

/** How a stream's chunks hold its bytes. */
export type ChunkEncoding = 'json' | 'text' | 'base64';

/** The content type of a PUT without one. */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The media type alone, lower case: `Text/Plain; charset=utf-8` → `text/plain`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Whether `value` looks like a media type (`type/subtype`). */
export function isMediaType(value: string | undefined): value is string {
  return typeof value === 'string' && /^[\w.+-]+\/[\w.+-]+/.test(value.trim());
}

/** The chunk encoding of a content type. */
export function encodingOf(contentType: string): ChunkEncoding {
  const type = mediaType(contentType);
  if (type === 'application/json') return 'json';
  if (type.startsWith('text/')) return 'text';
  return 'base64';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(body: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw new StreamstraightError('BAD_REQUEST', `The ${what} body is not valid UTF-8; a text stream holds text. Send UTF-8, or create the stream with a binary content type.`);
  }
}

/**
 * Turns a PUT or POST body into chunks.
 * @param body - the request body.
 * @param encoding - the stream's chunk encoding.
 * @param create - true for a PUT: an empty JSON array is then an empty stream, not an error.
 * @returns the chunks to store (none for an empty body).
 */
export function bodyToChunks(body: Uint8Array, encoding: ChunkEncoding, create: boolean): string[] {
  if (body.length === 0) return [];
  if (encoding === 'base64') return [Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64')];
  const text = utf8(body, encoding === 'json' ? 'JSON' : 'text');
  if (encoding === 'text') return [text];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StreamstraightError('BAD_REQUEST', `The body is not valid JSON (${(error as Error).message}); a JSON stream takes one JSON value or an array of messages.`);
  }
  if (!Array.isArray(value)) return [JSON.stringify(value)];
  if (value.length === 0 && !create) {
    throw new StreamstraightError('BAD_REQUEST', 'An empty JSON array appends nothing: send at least one message.');
  }
  return value.map((message) => JSON.stringify(message));
}

/** A chunk of a stream without a Durable Streams content type, as one JSON message. */
function nativeChunkAsJson(chunk: string): string {
  try {
    JSON.parse(chunk);
    return chunk;
  } catch {
    return JSON.stringify(chunk);
  }
}

/**
 * Turns stored chunks into a response body (a JSON array for JSON streams).
 * @param chunks - the chunks, in order.
 * @param encoding - the stream's chunk encoding.
 * @param native - true for a stream without a Durable Streams content type (chunks may not be JSON).
 */
export function chunksToBody(chunks: readonly string[], encoding: ChunkEncoding, native = false): Buffer {
  if (encoding === 'json') return Buffer.from(`[${(native ? chunks.map(nativeChunkAsJson) : chunks).join(',')}]`, 'utf8');
  if (encoding === 'text') return Buffer.from(chunks.join(''), 'utf8');
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk, 'base64')));
}

/** Stored size of a chunk in bytes, near enough for read limits. */
export function chunkBytes(chunk: string): number {
  return chunk.length;
}

/**
 * The first `count` units of a chunk for a fork's sub-offset: bytes for text and binary streams.
 * @returns the partial chunk, or `undefined` when `count` is past the chunk's end.
 */
export function chunkPrefix(chunk: string, encoding: ChunkEncoding, count: number): string | undefined {
  const bytes = encoding === 'base64' ? Buffer.from(chunk, 'base64') : Buffer.from(chunk, 'utf8');
  if (count > bytes.length) return undefined;
  const prefix = bytes.subarray(0, count);
  return encoding === 'base64' ? prefix.toString('base64') : utf8(prefix, 'forked');
}
