/**
 * `@ss/client/sse` — the reader over Server-Sent Events only (`fetch` + `eventsource-parser`): the
 * same `streamstraightClient()` and reader as `@ss/client`, without Socket.IO in the bundle. For
 * pages behind proxies that block WebSocket, or where the bundle size matters most.
 */
import { StreamstraightError, assertStreamId } from '@ss/core/protocol';
import { SseStreamReader } from './internal/sse-stream-reader.js';
import type { StreamOptions, StreamReader, StreamstraightClientOptions } from './streamstraight-client.js';

/**
 * Opens a reader of one stream over Server-Sent Events (`GET /v1/streams/:id/events`).
 *
 * @param options - `baseUrl`, `fetchToken` (or `token`), `decoder`, retries, `fetch`; `transport` is ignored (always SSE).
 * @param stream - `streamId`, `fromSeq`, `waitForStreamMs`, `onStatus`, `signal`.
 * @returns the reader, an async iterable of decoded chunks. `cancel()` goes through `POST /v1/streams/:id/cancel`.
 * @example
 * ```ts
 * import { streamstraightClient } from '@ss/client/sse'
 * const reader = streamstraightClient({ baseUrl, fetchToken }, { streamId })
 * for await (const chunk of reader) append(chunk)
 * ```
 */
export function streamstraightClient<T = unknown>(options: StreamstraightClientOptions<T>, stream: StreamOptions): StreamReader<T> {
  if (typeof options !== 'object' || options === null || typeof stream !== 'object' || stream === null) {
    throw new StreamstraightError('BAD_REQUEST', 'streamstraightClient(options, { streamId }) takes two option objects.');
  }
  assertStreamId(stream.streamId);
  return new SseStreamReader<T>(options, stream);
}
export type { ReaderStatus, StreamOptions, StreamReader, StreamstraightClientOptions } from './streamstraight-client.js';
export { StreamstraightError } from '@ss/core/protocol';
export type { EndReason, StreamstraightErrorCode } from '@ss/core/protocol';
