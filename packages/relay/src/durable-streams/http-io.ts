/** Small helpers for the Durable Streams face's Node request/response pairs. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamstraightError, type StreamstraightErrorCode } from '@ss/core/protocol';

/** Headers every answer of the face carries (CORS and the protocol's browser security headers). */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, HEAD, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, if-none-match, stream-seq, stream-ttl, stream-expires-at, stream-closed, producer-id, producer-epoch, producer-seq, stream-forked-from, stream-fork-offset, stream-fork-sub-offset, last-event-id',
  'access-control-expose-headers':
    'stream-next-offset, stream-cursor, stream-up-to-date, stream-closed, stream-ttl, stream-expires-at, stream-sse-data-encoding, producer-epoch, producer-seq, producer-expected-seq, producer-received-seq, etag, location, content-type',
  'access-control-max-age': '600',
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'cross-origin',
};

/** An answer the face gives instead of going on: a status, its error and extra headers. */
export class FaceError extends Error {
  constructor(
    readonly status: number,
    readonly code: StreamstraightErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Writes a complete answer (no body for 204/304 and HEAD). */
export function send(response: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  if (response.headersSent || response.destroyed) return;
  const withBody = body !== undefined && status !== 204 && status !== 304 && response.req.method !== 'HEAD';
  const all: Record<string, string | number> = { ...COMMON_HEADERS, ...headers };
  if (withBody) all['content-length'] = Buffer.byteLength(body);
  response.writeHead(status, all);
  response.end(withBody ? body : undefined);
}

/** Writes an error answer: `{ "error": { "code", "message" } }`. */
export function sendError(response: ServerResponse, status: number, code: StreamstraightErrorCode, message: string, headers: Record<string, string> = {}): void {
  send(response, status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, JSON.stringify({ error: { code, message } }));
}

/** Answers whatever a handler threw: a {@link FaceError}, a `StreamstraightError` (its own status), else a 500. */
export function sendThrown(response: ServerResponse, error: unknown, onInternalError: (error: unknown) => void): void {
  if (error instanceof FaceError) {
    sendError(response, error.status, error.code, error.message, error.headers);
  } else if (StreamstraightError.isInstance(error)) {
    const retry: Record<string, string> = error.retryInMs === undefined ? {} : { 'retry-after': String(Math.ceil(error.retryInMs / 1000)) };
    sendError(response, error.status, error.code, error.message, retry);
  } else {
    onInternalError(error);
    sendError(response, 500, 'INTERNAL', 'The relay hit an unexpected error; it has been logged. Try again.');
  }
}

/**
 * Reads a request body of at most `maxBytes`. A larger body is read to its end (up to 16 times the
 * limit, then the connection is cut) so the client sees the 413 rather than a reset.
 * @throws {@link FaceError} 413 `CHUNK_TOO_LARGE`.
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (part: Buffer) => {
      size += part.length;
      if (size > maxBytes) {
        tooLarge = true;
        parts.length = 0;
        if (size > maxBytes * 16) request.destroy();
        return;
      }
      parts.push(part);
    });
    request.on('end', () => {
      if (tooLarge) reject(tooLargeError(maxBytes));
      else resolve(new Uint8Array(Buffer.concat(parts)));
    });
    request.on('error', reject);
    request.on('close', () => {
      if (!request.complete) reject(tooLarge ? tooLargeError(maxBytes) : new Error('the client went away before the body was complete'));
    });
  });
}

function tooLargeError(maxBytes: number): FaceError {
  return new FaceError(413, 'CHUNK_TOO_LARGE', `The body is larger than ${maxBytes} bytes (maxAppendBytes): split it into several appends.`);
}

/** A header's single value (`undefined` when absent). */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `Stream-Closed` counts only when it is exactly `true` (any case). */
export function closedHeader(request: IncomingMessage): boolean {
  return header(request, 'stream-closed')?.toLowerCase() === 'true';
}
