/**
 * `@ss/hono`: stream an LLM answer to the HTTP response and to the relay at once, from a Hono
 * route; the relay stream completes even when the browser goes away. Named exports only.
 */
import {
  type ActiveStreamHandlerOptions,
  type TeeOptions,
  type TeeSource,
  type TokenHandlerOptions,
  createActiveStreamHandler,
  createTokenHandler,
  teeStream,
} from '@ss/core';
import type { Context } from 'hono';

export { StreamstraightError } from '@ss/core';
export type {
  ActiveStreamGrant,
  ActiveStreamHandlerOptions,
  BodyFormat,
  StreamstraightErrorCode,
  TeeOptions,
  TeeResult,
  TeeSource,
  TokenHandlerOptions,
} from '@ss/core';

/** `c.executionCtx` where the runtime has one (Workers, Deno Deploy); Hono's getter throws elsewhere (Node). */
function executionContextOf(c: Context): { waitUntil(promise: Promise<unknown>): void } | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/**
 * Streams `source` as the response and to the relay. On runtimes with an execution context the
 * rest of the stream (and `onFinish`) is kept alive with `c.executionCtx.waitUntil`; on Node the
 * process is alive anyway. Headers set with `c.header()` are kept.
 *
 * @param c - the Hono context.
 * @param source - an async iterable, a `ReadableStream`, or an AI SDK `streamText()` result.
 * @param options - `apiKey` (required), `baseUrl`, `streamId`, `format`, `onFinish`, `onError`, … (see `TeeOptions`).
 * @returns the streaming response; its `x-stream-id` header names the relay stream.
 * @example
 * ```ts
 * app.post('/api/chat', (c) => streamResponse(c, llm.stream(prompt), { apiKey, streamId: chatId }))
 * ```
 */
export function streamResponse<T = unknown>(c: Context, source: TeeSource<T>, options: TeeOptions<T>): Response {
  const tee = teeStream(source, options);
  executionContextOf(c)?.waitUntil(tee.done);
  return c.body(tee.body, 200, tee.headers);
}

/**
 * A Hono handler for the page's token requests: `POST {"streamIds": [...]}` → `{ token }`, minted
 * locally for exactly those ids when `authorize(c, streamId)` returns true (403 otherwise, 400 for
 * a malformed body).
 *
 * @param options - `apiKey`, `authorize(c, streamId)`, `expiresIn`, `cancel`.
 * @returns the handler.
 * @example
 * ```ts
 * app.post('/api/token', tokenHandler({ apiKey, authorize: (c, id) => id.startsWith(`${c.get('userId')}:`) }))
 * ```
 */
export function tokenHandler(options: TokenHandlerOptions<Context>): (c: Context) => Promise<Response> {
  const handle = createTokenHandler(options);
  return (c) => handle(c.req.raw, c);
}

/**
 * A Hono handler for the page's resume requests (`GET /api/chat/:id/stream`, the URL the AI SDK's
 * transports use): 204 when the chat has no stream to resume, else `{ streamId, token, relayUrl }`.
 *
 * @param options - `apiKey`, `activeStream(c, chatId)`, `relayUrl`, `expiresIn`, `cancel`; `param`
 *   names the route parameter holding the chat id (default `'id'`).
 * @returns the handler.
 * @example
 * ```ts
 * app.get('/api/chat/:id/stream', activeStreamHandler({ apiKey, activeStream: (c, chatId) => chats.get(chatId)?.activeStreamId }))
 * ```
 */
export function activeStreamHandler(options: ActiveStreamHandlerOptions<Context> & { param?: string }): (c: Context) => Promise<Response> {
  const handle = createActiveStreamHandler(options);
  const param = options.param ?? 'id';
  return (c) => handle(c.req.raw, c, c.req.param(param) ?? '');
}
