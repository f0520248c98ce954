/**
 * `@ss/express`: stream an LLM answer to the HTTP response and to the relay at once, from an
 * Express 4 or 5 route; the relay stream completes even when the browser goes away. Named exports only.
 */
import {
  type ActiveStreamHandlerOptions,
  type TeeOptions,
  type TeeResult,
  type TeeSource,
  type TokenHandlerOptions,
  createActiveStreamHandler,
  createTokenHandler,
  teeStream,
} from '@ss/core';
import { toWebRequest, writeWebBody, writeWebResponse } from '@ss/core/node';
import type { NextFunction, Request, Response } from 'express';

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

/**
 * Streams `source` to `res` (with backpressure; a client that goes away stops only its own
 * branch) and to the relay. Headers set on `res` before are kept.
 *
 * @param req - the Express request.
 * @param res - the Express response.
 * @param source - an async iterable, a `ReadableStream`, or an AI SDK `streamText()` result.
 * @param options - `apiKey` (required), `baseUrl`, `streamId`, `format`, `onFinish`, `onError`, … (see `TeeOptions`).
 * @returns `done`: resolves (never rejects) when the source is finished, the relay has the end and `onFinish` returned.
 * @example
 * ```ts
 * app.post('/api/chat', (req, res) => streamResponse(req, res, llm.stream(req.body.prompt), { apiKey, streamId: req.body.chatId }))
 * ```
 */
export function streamResponse<T = unknown>(req: Request, res: Response, source: TeeSource<T>, options: TeeOptions<T>): Promise<TeeResult<T>> {
  const tee = teeStream(source, options);
  req.socket?.setNoDelay(true); // tokens are small writes: send each at once
  res.writeHead(200, tee.headers);
  res.flushHeaders(); // the page learns the stream id before the first token
  void writeWebBody(tee.body, res);
  return tee.done;
}

/** The body for the Web request: read the stream, unless a body parser already did. */
function consumedBody(req: Request): string | undefined {
  if (!req.readableEnded) return undefined;
  const body: unknown = req.body;
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return body === undefined ? '' : JSON.stringify(body);
}

/**
 * An Express handler for the page's token requests: `POST {"streamIds": [...]}` → `{ token }`,
 * minted locally for exactly those ids when `authorize(req, streamId)` returns true (403
 * otherwise, 400 for a malformed body). Works with or without `express.json()`.
 *
 * @param options - `apiKey`, `authorize(req, streamId)`, `expiresIn`, `cancel`.
 * @returns the handler; errors other than `StreamstraightError`s go to `next()`.
 * @example
 * ```ts
 * app.post('/api/token', tokenHandler({ apiKey, authorize: (req, id) => id.startsWith(`${req.user.id}:`) }))
 * ```
 */
export function tokenHandler(options: TokenHandlerOptions<Request>): (req: Request, res: Response, next: NextFunction) => void {
  const handle = createTokenHandler(options);
  return (req, res, next) => {
    handle(toWebRequest(req, res, { body: consumedBody(req) }), req).then((response) => writeWebResponse(response, res), next);
  };
}

/**
 * An Express handler for the page's resume requests (`GET /api/chat/:id/stream`, the URL the AI
 * SDK's transports use): 204 when the chat has no stream to resume, else `{ streamId, token, relayUrl }`.
 *
 * @param options - `apiKey`, `activeStream(req, chatId)`, `relayUrl`, `expiresIn`, `cancel`; `param`
 *   names the route parameter holding the chat id (default `'id'`).
 * @returns the handler (errors other than `StreamstraightError`s go to `next`).
 * @example
 * ```ts
 * app.get('/api/chat/:id/stream', activeStreamHandler({ apiKey, activeStream: (req, chatId) => chats.get(chatId)?.activeStreamId }))
 * ```
 */
export function activeStreamHandler(
  options: ActiveStreamHandlerOptions<Request> & { param?: string },
): (req: Request, res: Response, next: NextFunction) => void {
  const handle = createActiveStreamHandler(options);
  const param = options.param ?? 'id';
  return (req, res, next) => {
    handle(toWebRequest(req, res), req, String(req.params[param] ?? '')).then((response) => writeWebResponse(response, res), next);
  };
}
