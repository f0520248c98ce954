/**
 * `@ss/nextjs`: stream an LLM answer to the HTTP response and to the relay at once, from a Next.js
 * App Router route handler; the relay stream completes even when the browser goes away. Named
 * exports only.
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
import { after } from 'next/server.js'; // with the extension: next has no exports map, and Node's ESM loader needs it

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
 * Streams `source` as the response and to the relay, and keeps the rest of the stream (and
 * `onFinish`) alive after the response with `after()`, so a serverless function is not frozen
 * while the relay still needs chunks.
 *
 * @param source - an async iterable, a `ReadableStream`, or an AI SDK `streamText()` result.
 * @param options - `apiKey` (required), `baseUrl`, `streamId`, `format`, `onFinish`, `onError`, … (see `TeeOptions`).
 * @returns the streaming response; its `x-stream-id` header names the relay stream.
 * @example
 * ```ts
 * export async function POST(request: Request) {
 *   const { prompt, chatId } = await request.json()
 *   return streamResponse(llm.stream(prompt), { apiKey, streamId: chatId })
 * }
 * ```
 */
export function streamResponse<T = unknown>(source: TeeSource<T>, options: TeeOptions<T>): Response {
  const tee = teeStream(source, options);
  after(tee.done);
  return new Response(tee.body, { headers: tee.headers });
}

/**
 * Route handlers for the page's token requests: `POST {"streamIds": [...]}` → `{ token }`, minted
 * locally for exactly those ids when `authorize(request, streamId)` returns true (403 otherwise,
 * 400 for a malformed body).
 *
 * @param options - `apiKey`, `authorize(request, streamId)`, `expiresIn`, `cancel`.
 * @returns `{ POST }`, to export from `app/api/token/route.ts`.
 * @example
 * ```ts
 * export const { POST } = tokenHandler({ apiKey, authorize: async (request, id) => ownsChat(await userOf(request), id) })
 * ```
 */
export function tokenHandler(options: TokenHandlerOptions<Request>): { POST: (request: Request) => Promise<Response> } {
  const handle = createTokenHandler(options);
  // biome-ignore lint/correctness/noComponentHookFactories: POST is a route handler, not a React component
  return { POST: (request) => handle(request) }; // not `handle` itself: Next passes its route context second
}

/** The route context Next.js passes to a handler of a dynamic route (`params` is a promise since Next 15). */
export interface RouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

/**
 * The resume route for `app/api/chat/[id]/stream/route.ts` (the URL the AI SDK's transports use):
 * `export const { GET } = activeStreamHandler({ … })`. 204 when the chat has no stream to resume,
 * else `{ streamId, token, relayUrl }`.
 *
 * @param options - `apiKey` (a function is read per request), `activeStream(request, chatId)`,
 *   `relayUrl`, `expiresIn`, `cancel`; `param` names the dynamic segment (default `'id'`).
 * @returns `{ GET }` to export from the route module.
 * @example
 * ```ts
 * export const { GET } = activeStreamHandler({ apiKey: () => process.env.SS_API_KEY, activeStream: (request, chatId) => getActiveStreamId(chatId) })
 * ```
 */
export function activeStreamHandler(
  options: ActiveStreamHandlerOptions<Request> & { param?: string },
): { GET: (request: Request, context: RouteContext) => Promise<Response> } {
  const handle = createActiveStreamHandler(options);
  const param = options.param ?? 'id';
  return {
    // biome-ignore lint/correctness/noComponentHookFactories: GET is a route handler, not a React component
    GET: async (request, context) => {
      const value = (await context.params)[param];
      return handle(request, request, Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
    },
  };
}
