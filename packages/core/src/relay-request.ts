/**
 * JSON requests from an app server to the relay's HTTP API (`POST /v1/token`, `GET /v1/streams/:id`),
 * with one way of turning a failure into a `StreamstraightError`. `fetch` only: runs anywhere.
 */
import { type ErrorPayload, errorFromPayload, StreamstraightError } from './errors.js';
import { BASE_URL_ENV, DEFAULT_BASE_URL } from './protocol.js';

/** The relay URL from `STREAMSTRAIGHT_API_BASE_URL`, else the default, without a trailing slash. */
export function defaultBaseUrl(): string {
  const fromEnvironment =
    typeof process === 'undefined' ? undefined : (process.env?.[BASE_URL_ENV] as string | undefined);
  return fromEnvironment !== undefined && fromEnvironment !== '' ? fromEnvironment : DEFAULT_BASE_URL;
}

function codeForStatus(status: number): ErrorPayload['code'] {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'RELAY_UNAVAILABLE';
  return 'INTERNAL';
}

/** What {@link requestRelayJson} sends. */
export interface RelayRequest {
  /** The full URL. */
  url: string;
  /** The API key, sent as `Authorization: Bearer`. */
  apiKey: string;
  /** A JSON body (POST); without one the request is a GET. */
  body?: unknown;
  /** The fetch to use. Default: the global one. */
  fetch?: typeof fetch;
  /** What the request is for, in error messages ("to fetch a client token"). */
  purpose: string;
}

/**
 * Sends one JSON request to the relay and returns the parsed JSON of a 2xx answer.
 * @param request - URL, key, body, purpose.
 * @returns the answer's JSON object.
 * @throws StreamstraightError with the relay's own code and message for an error answer,
 *   `RELAY_UNAVAILABLE` when the relay cannot be reached, `INTERNAL` for an answer that is not JSON.
 * @example
 * ```ts
 * const info = await requestRelayJson({ url: `${baseUrl}/v1/streams/${id}`, apiKey, purpose: 'to read a stream status' })
 * ```
 */
export async function requestRelayJson(request: RelayRequest): Promise<Record<string, unknown>> {
  const { url, apiKey, body, purpose } = request;
  const fetchImplementation = request.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await fetchImplementation(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new StreamstraightError('RELAY_UNAVAILABLE', `Could not reach the relay at ${url} ${purpose}: ${
      error instanceof Error ? error.message : String(error)
    }. Check baseUrl / ${BASE_URL_ENV}.`, { cause: error });
  }

  let answer: unknown;
  try {
    answer = await response.json();
  } catch (error) {
    throw new StreamstraightError(
      response.ok ? 'INTERNAL' : codeForStatus(response.status),
      `The relay at ${url} answered ${response.status} without a JSON body: is baseUrl the relay's URL?`,
      { cause: error },
    );
  }
  const record = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
  if (!response.ok) {
    if (typeof record.error === 'object' && record.error !== null) throw errorFromPayload(record.error);
    throw new StreamstraightError(codeForStatus(response.status), `The relay at ${url} answered ${response.status}.`);
  }
  return record;
}
