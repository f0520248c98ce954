/**
 * The app-side "resume" route every adapter exposes as `activeStreamHandler`: a page (the AI SDK's
 * `useChat` through `@ss/ai`'s transport, or any reader) asks which relay stream is the chat's
 * current answer and gets a client token to read it from the relay — or 204 when there is nothing to
 * resume. Web `Request` in, `Response` out; adapters only find the chat id.
 */
import { mintClientToken } from './client-token.js';
import { StreamstraightError } from './errors.js';
import { type ApiKeyOption, apiKeyReader, errorResponse, jsonResponse } from './internal/app-route.js';
import { STREAM_ID_HEADER } from './tee/tee-stream.js';
import { isValidStreamId } from './protocol.js';
import { defaultBaseUrl, requestRelayJson } from './relay-request.js';

/** Options of `activeStreamHandler` (every adapter) and {@link createActiveStreamHandler}. */
export interface ActiveStreamHandlerOptions<R = Request> {
  /** The API key the relay is configured with (tokens are minted from it locally), or a function returning it per request. */
  apiKey: ApiKeyOption;
  /**
   * The chat's current stream id — the one your chat route started last — or `null`/`undefined` when
   * it has none. This is where you check that the caller may read the chat (throw a
   * `StreamstraightError('FORBIDDEN', …)` or return `null`). Keep the id after the answer ended, until
   * the next message replaces it: a page whose response broke just before the end asks for it by id to
   * read the tail.
   */
  activeStream: (request: R, chatId: string) => string | null | undefined | Promise<string | null | undefined>;
  /** The relay URL this server reaches, for the stream's status. Default: `$STREAMSTRAIGHT_API_BASE_URL`, else `http://localhost:8787`. */
  baseUrl?: string;
  /** The relay URL the browser connects to, sent in the answer. Default: `baseUrl`. */
  relayUrl?: string;
  /** Token lifetime (`'10m'`, `'1h'`, seconds); at most 24 h. Default `'10m'`. */
  expiresIn?: string | number;
  /** Also let the token cancel the stream (needed by `@ss/ai`'s `cancelOnStop`). Default false. */
  cancel?: boolean;
  /**
   * How long a page load waits for the relay to know the chat's active stream before answering 204:
   * a chat route records the stream a moment before its relay branch opens it. Default 1 500 ms
   * (only a stream the relay does not know waits: an expired one, or one about to open).
   */
  waitForStreamMs?: number;
  /** The fetch used to ask the relay for a stream's status. Default: the global one. */
  fetch?: typeof fetch;
}

/** The answer of the route when there is a stream to read. */
export interface ActiveStreamGrant {
  /** The stream to read. */
  streamId: string;
  /** A client token for it (read, and cancel when the handler allows it). */
  token: string;
  /** Where the browser reads it. */
  relayUrl: string;
}

/** How long a page load waits for the relay to know a chat's active stream (see `waitForStreamMs`). */
const DEFAULT_WAIT_FOR_STREAM_MS = 1_500;

/**
 * The relay's status of `streamId`. A stream the relay does not know may be one the chat route has
 * just started (its relay branch opens it a moment after the route recorded it): ask again, with
 * growing pauses, for up to `waitMs`, then take it as gone (expired, or never opened).
 */
async function statusOf(streamId: string, baseUrl: string, apiKey: string, fetchImplementation: typeof fetch | undefined, waitMs: number): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (let pause = 50; ; pause *= 2) {
    try {
      const info = await requestRelayJson({
        url: `${baseUrl}/v1/streams/${encodeURIComponent(streamId)}`,
        apiKey,
        fetch: fetchImplementation,
        purpose: 'to read the status of the active stream',
      });
      return String(info.status);
    } catch (error) {
      if (!(StreamstraightError.isInstance(error) && error.code === 'STREAM_NOT_FOUND')) throw error;
      const left = deadline - Date.now();
      if (left <= 0) return 'ended';
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    }
  }
}

/** The query parameter (or the `x-stream-id` request header) that asks for one stream by id. */
export const ACTIVE_STREAM_QUERY = 'streamId';

function requestedStreamId(request: Request): string | undefined {
  const requested = new URL(request.url).searchParams.get(ACTIVE_STREAM_QUERY) ?? request.headers.get(STREAM_ID_HEADER) ?? undefined;
  if (requested === undefined || requested === '') return undefined;
  if (!isValidStreamId(requested)) {
    throw new StreamstraightError('INVALID_STREAM_ID', `${JSON.stringify(requested)} is not a stream id (1-256 characters of A-Z a-z 0-9 . _ : ~ -).`);
  }
  return requested;
}

/**
 * Makes the active-stream route's handler. `GET` answers:
 * - `204` when the chat has no active stream, or (asked without a stream id) when that stream has
 *   already ended or expired on the relay: the page has the finished answer from its saved messages;
 * - `200 { streamId, token, relayUrl }` for the active stream (asked with `?streamId=` or an
 *   `x-stream-id` header, even when it has ended: a page reads the tail of an answer whose response broke);
 * - `403 FORBIDDEN` when the stream asked for is not the chat's active one; `400` for a malformed id;
 *   errors as `{ error: { code, message } }`.
 *
 * @param options - `apiKey`, `activeStream(request, chatId)`, `relayUrl`, `expiresIn`, `cancel`.
 * @returns `(request, context, chatId) => Promise<Response>`; `context` is what `activeStream` receives.
 * @throws StreamstraightError `BAD_REQUEST` at once when `apiKey` or `activeStream` is missing.
 * @example
 * ```ts
 * const handle = createActiveStreamHandler({ apiKey, activeStream: (request, chatId) => chats.get(chatId)?.activeStreamId })
 * const response = await handle(request, request, chatId)
 * ```
 */
export function createActiveStreamHandler<R = Request>(
  options: ActiveStreamHandlerOptions<R>,
): (request: Request, context: R, chatId: string) => Promise<Response> {
  if (typeof options !== 'object' || options === null) throw new StreamstraightError('BAD_REQUEST', 'activeStreamHandler: options { apiKey, activeStream } are required.');
  const currentKey = apiKeyReader(options.apiKey, 'activeStreamHandler');
  if (typeof options.activeStream !== 'function') {
    throw new StreamstraightError('BAD_REQUEST', "activeStreamHandler: activeStream(request, chatId) is required; return the chat's current stream id, or null.");
  }
  const { activeStream, expiresIn, cancel = false } = options;
  return async (request, context, chatId) => {
    try {
      const apiKey = currentKey();
      const requested = requestedStreamId(request);
      const active = await activeStream(context, chatId);
      if (active === null || active === undefined || active === '') return new Response(null, { status: 204 });
      if (requested !== undefined && requested !== active) {
        throw new StreamstraightError('FORBIDDEN', `Stream ${requested} is not the active stream of chat ${chatId}.`);
      }
      const baseUrl = (options.baseUrl ?? defaultBaseUrl()).replace(/\/+$/, '');
      if (requested === undefined) {
        // The AI SDK's resume semantics: a finished answer is not replayed on page load.
        const info = await statusOf(active, baseUrl, apiKey, options.fetch, options.waitForStreamMs ?? DEFAULT_WAIT_FOR_STREAM_MS);
        if (info !== 'open') return new Response(null, { status: 204 });
      }
      const token = await mintClientToken({ apiKey, streamIds: [active], cancel, ...(expiresIn === undefined ? {} : { expiresIn }) });
      const grant: ActiveStreamGrant = { streamId: active, token, relayUrl: options.relayUrl ?? baseUrl };
      return jsonResponse(200, grant);
    } catch (error) {
      if (StreamstraightError.isInstance(error)) return errorResponse(error);
      throw error;
    }
  };
}
