/**
 * API-key checks for the relay: producers and `POST /v1/token` present `Authorization: Bearer <key>`.
 * Several keys may be valid at once (rotation); comparison is constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { StreamstraightError } from '@ss/core/protocol';

/** Decides whether a presented API key is one of the configured keys. */
export type ApiKeyCheck = (presented: string | undefined) => boolean;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Builds a constant-time API-key check. Both sides are hashed with SHA-256 (so lengths never leak)
 * and compared with `timingSafeEqual`; every configured key is compared, with no early exit.
 *
 * @param apiKeys - the valid keys (during a rotation, the new and the old one). At least one, none empty.
 * @returns a function telling whether a presented key is valid.
 * @throws `StreamstraightError` `BAD_REQUEST` when the list is empty or holds an empty key.
 * @example
 * ```ts
 * const checkApiKey = createApiKeyCheck(['key-2025-06', 'key-2025-01'])
 * checkApiKey(bearerToken(request.headers.authorization)) // true or false
 * ```
 */
export function createApiKeyCheck(apiKeys: readonly string[]): ApiKeyCheck {
  if (!Array.isArray(apiKeys) || apiKeys.length === 0) {
    throw new StreamstraightError('BAD_REQUEST', 'The relay needs at least one API key: configure apiKeys with the key(s) your producers use.');
  }
  if (!apiKeys.every((key) => typeof key === 'string' && key.length > 0)) {
    throw new StreamstraightError('BAD_REQUEST', 'Every API key must be a non-empty string: check the apiKeys list for blanks.');
  }
  const digests = apiKeys.map(sha256);
  return (presented) => {
    if (typeof presented !== 'string' || presented.length === 0) return false;
    const candidate = sha256(presented);
    let matched = false;
    for (const digest of digests) matched = timingSafeEqual(candidate, digest) || matched;
    return matched;
  };
}

/**
 * Reads the credential of an `Authorization: Bearer <token>` header (the scheme is case-insensitive).
 * @param headerValue - the header's value, if any.
 * @returns the token, or `undefined` when the header is missing or not a bearer credential.
 * @example
 * ```ts
 * bearerToken('Bearer abc') // 'abc'
 * bearerToken('Basic abc')  // undefined
 * ```
 */
export function bearerToken(headerValue: string | null | undefined): string | undefined {
  if (typeof headerValue !== 'string') return undefined;
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(headerValue.trim());
  return match?.[1];
}
