/**
 * Node `IncomingMessage` → Web `Request`, with a `signal` that aborts when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** Options of {@link toWebRequest}. */
export interface ToWebRequestOptions {
  /**
   * The body to use instead of reading `request` — for a body a middleware already consumed
   * (Express's `express.json()` leaves it in `req.body`).
   */
  body?: BodyInit | null;
}

/**
 * Makes a Web `Request` for a Node request. The body streams from `request` (not read up front);
 * `signal` aborts when the connection closes before `response` finished.
 *
 * @param request - the Node request.
 * @param response - its response (its `close` tells a vanished client from a finished answer).
 * @param options - `body`, to replace an already consumed body.
 * @returns the Web request.
 * @example
 * ```ts
 * http.createServer(async (req, res) => writeWebResponse(await app.fetch(toWebRequest(req, res)), res))
 * ```
 */
export function toWebRequest(request: IncomingMessage, response: ServerResponse, options: ToWebRequestOptions = {}): Request {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const encrypted = (request.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const path = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
  const url = new URL(path, `${encrypted ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}`);
  const method = request.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal };
  if (method !== 'GET' && method !== 'HEAD') {
    if (options.body !== undefined) init.body = options.body;
    else if (!request.readableEnded) {
      init.body = Readable.toWeb(request) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
  }
  return new Request(url, init);
}
