/**
 * What the app-side route handlers of core (`createTokenHandler`, `createActiveStreamHandler`) share:
 * JSON answers, the error answer, and the API key that may be given as a function.
 */
import { type ErrorPayload, StreamstraightError } from '../errors.js';

/** A JSON answer that no cache keeps (it carries tokens). */
export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** The JSON error answer: `{ error: { code, message } }` with the code's status (as the relay answers). */
export function errorResponse(error: StreamstraightError): Response {
  const body: { error: ErrorPayload } = { error: { code: error.code, message: error.message } };
  return jsonResponse(error.status, body);
}

/** An API key, or a function called per request (Next.js builds route modules where secrets are absent). */
export type ApiKeyOption = string | (() => string | undefined);

/**
 * Checks an `apiKey` option at creation and returns its per-request reader.
 * @param apiKey - the option.
 * @param handler - the handler's name, in messages.
 * @returns a function that returns the key, or throws `INTERNAL` (500) when the function returned none.
 * @throws StreamstraightError `BAD_REQUEST` at once when the option is missing.
 */
export function apiKeyReader(apiKey: ApiKeyOption | undefined, handler: string): () => string {
  if (!((typeof apiKey === 'string' && apiKey !== '') || typeof apiKey === 'function')) {
    throw new StreamstraightError('BAD_REQUEST', `${handler}: apiKey is required (the API key the relay is configured with, or a function that returns it).`);
  }
  return () => {
    const key = typeof apiKey === 'function' ? apiKey() : apiKey;
    if (typeof key !== 'string' || key === '') {
      // The app's configuration, not the caller, is at fault: 500, and say what to set.
      throw new StreamstraightError('INTERNAL', `${handler}: the apiKey function returned no key. Set the API key in the environment the app runs in.`);
    }
    return key;
  };
}
