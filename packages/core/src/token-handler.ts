/**
 * The app-side token endpoint every adapter exposes as `tokenHandler`: a page posts the stream ids
 * it wants to read, the app decides (`authorize`), and answers a client token minted locally for
 * exactly those ids. Web `Request` in, `Response` out; adapters only translate.
 */
import { mintClientToken } from './client-token.js';
import { StreamstraightError } from './errors.js';
import { type ApiKeyOption, apiKeyReader, errorResponse, jsonResponse } from './internal/app-route.js';
import { isValidStreamId } from './protocol.js';

/** Options of `tokenHandler` (every adapter) and {@link createTokenHandler}. */
export interface TokenHandlerOptions<R = Request> {
  /**
   * The API key the relay is configured with; tokens are minted from it locally. A function is
   * called on each request instead, so a module can create the handler before the key exists
   * (Next.js evaluates route modules during `next build`, where secrets are usually absent).
   */
  apiKey: ApiKeyOption;
  /**
   * Decides whether the caller may read `streamId` (called once per requested id). Return `true` to
   * allow; anything else answers 403. Throw a `StreamstraightError` to answer with its status.
   * `request` is the framework's own request (Express `req`, Hono `c`, Next `Request`).
   */
  authorize: (request: R, streamId: string) => boolean | Promise<boolean>;
  /** Token lifetime: a time span (`'10m'`, `'1h'`) or seconds; at most 24 h. Default `'10m'`. */
  expiresIn?: string | number;
  /** Also let the token cancel the same streams (the reader's `cancel()`). Default false. */
  cancel?: boolean;
}

/** Largest accepted request body. */
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

const BODY_SHAPE = '{ "streamIds": ["<id>", …] } or { "streamId": "<id>" }';

function badBody(detail: string): StreamstraightError {
  return new StreamstraightError('BAD_REQUEST', `Malformed token request: ${detail}. Send JSON ${BODY_SHAPE}.`);
}

async function readStreamIds(request: Request): Promise<string[]> {
  const text = await request.text();
  if (text.length > MAX_TOKEN_REQUEST_BYTES) throw badBody(`the body is over ${MAX_TOKEN_REQUEST_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badBody(text.trim() === '' ? 'the body is empty' : 'the body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badBody('the body is not a JSON object');
  const { streamIds, streamId } = body as { streamIds?: unknown; streamId?: unknown };
  const ids = streamIds !== undefined ? streamIds : streamId !== undefined ? [streamId] : undefined;
  if (!Array.isArray(ids) || ids.length === 0) throw badBody('"streamIds" must be a non-empty array of stream ids');
  for (const id of ids) {
    if (!isValidStreamId(id)) {
      throw new StreamstraightError('INVALID_STREAM_ID', `Malformed token request: ${JSON.stringify(id)} is not a stream id (1-256 characters of A-Z a-z 0-9 . _ : ~ -).`);
    }
  }
  return [...new Set(ids as string[])];
}

/**
 * Makes the token endpoint's request handler: `POST {"streamIds": [...]}` (or `{"streamId"}`)
 * answers `{ token }` for exactly those ids when `authorize` allows each one; a malformed body
 * answers 400, a refusal 403, each with `{ error: { code, message } }`. Errors other than
 * `StreamstraightError`s thrown by `authorize` are rethrown for the framework to handle.
 *
 * @param options - `apiKey`, `authorize`, `expiresIn`, `cancel`.
 * @returns `(request, context?) => Promise<Response>`; `context` (default: the request) is what `authorize` receives.
 * @throws StreamstraightError `BAD_REQUEST` at once when `apiKey` or `authorize` is missing.
 * @example
 * ```ts
 * const handle = createTokenHandler({ apiKey, authorize: (request, id) => id.startsWith(userOf(request)) })
 * const response = await handle(request)
 * ```
 */
export function createTokenHandler<R = Request>(options: TokenHandlerOptions<R>): (request: Request, context?: R) => Promise<Response> {
  if (typeof options !== 'object' || options === null) throw new StreamstraightError('BAD_REQUEST', 'tokenHandler: options { apiKey, authorize } are required.');
  const currentKey = apiKeyReader(options.apiKey, 'tokenHandler');
  if (typeof options.authorize !== 'function') {
    throw new StreamstraightError('BAD_REQUEST', 'tokenHandler: authorize(request, streamId) is required; return true to allow a stream.');
  }
  const { authorize, expiresIn, cancel = false } = options;
  return async (request, context) => {
    try {
      const apiKey = currentKey();
      const streamIds = await readStreamIds(request);
      for (const streamId of streamIds) {
        if ((await authorize(context ?? (request as R), streamId)) !== true) {
          throw new StreamstraightError('FORBIDDEN', `Not allowed to read stream ${streamId}.`);
        }
      }
      const token = await mintClientToken({ apiKey, streamIds, cancel, ...(expiresIn === undefined ? {} : { expiresIn }) });
      return jsonResponse(200, { token });
    } catch (error) {
      if (StreamstraightError.isInstance(error)) return errorResponse(error);
      throw error;
    }
  };
}
