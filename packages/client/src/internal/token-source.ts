import { StreamstraightError } from '@ss/core/protocol';

/** The times a JWT carries, in epoch milliseconds; absent when the token does not say. */
export interface TokenTimes {
  expiresAt?: number;
  issuedAt?: number;
}

/**
 * Reads `exp` and `iat` from a JWT's payload WITHOUT verifying it (the relay verifies; the reader
 * only wants to know when to fetch a new one). Works in browsers: base64url through `atob` and
 * `TextDecoder`, no `Buffer`. Anything that is not a readable JWT gives `{}`.
 * @param token - a compact JWT (`header.payload.signature`).
 * @returns `expiresAt` / `issuedAt` in milliseconds when present.
 */
export function decodeTokenTimes(token: string): TokenTimes {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const binary = atob(base64);
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== 'object' || claims === null) return {};
    const { exp, iat } = claims as Record<string, unknown>;
    const times: TokenTimes = {};
    if (typeof exp === 'number' && Number.isFinite(exp)) times.expiresAt = exp * 1000;
    if (typeof iat === 'number' && Number.isFinite(iat)) times.issuedAt = iat * 1000;
    return times;
  } catch {
    return {};
  }
}

/** A token is refreshed when it expires within this margin (or a quarter of its lifetime, if shorter). */
export const TOKEN_REFRESH_MARGIN_MS = 30_000;

/**
 * Whether a token should be replaced before it is used for a (re)connect.
 * @param token - the token.
 * @param now - the current time in epoch milliseconds.
 * @returns true when the token is expired or about to expire; false when it is fresh or has no `exp`.
 */
export function isTokenStale(token: string, now: number): boolean {
  const { expiresAt, issuedAt } = decodeTokenTimes(token);
  if (expiresAt === undefined) return false;
  const lifetime = issuedAt === undefined ? Number.POSITIVE_INFINITY : expiresAt - issuedAt;
  const margin = Math.min(TOKEN_REFRESH_MARGIN_MS, Math.max(0, lifetime / 4));
  return expiresAt - now <= margin;
}

/**
 * Hands out the reader's token: a static one, or one from `fetchToken`, cached while fresh,
 * refetched when stale or invalidated. Concurrent callers share one fetch.
 */
export class TokenSource {
  private cached: string | undefined;
  private inFlight: Promise<string> | undefined;
  private fetches = 0;

  /**
   * @param fetchToken - fetches a new token; when absent, `staticToken` is always used.
   * @param staticToken - a fixed token.
   * @param now - the clock, for tests.
   */
  constructor(
    private readonly fetchToken: (() => Promise<string>) | undefined,
    private readonly staticToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (!fetchToken && !staticToken) {
      throw new StreamstraightError('BAD_REQUEST', 'Pass `fetchToken` (a function that returns a client token) or a static `token`.');
    }
    this.cached = staticToken;
  }

  /** Whether a new token can be obtained (a `fetchToken` was given). */
  get canRefresh(): boolean {
    return this.fetchToken !== undefined;
  }

  /** How many times `fetchToken` was called. */
  get fetchCount(): number {
    return this.fetches;
  }

  /**
   * A token to connect with: the cached one while fresh, else a new one.
   * @returns the token.
   */
  get(): Promise<string> {
    const fetchToken = this.fetchToken;
    if (!fetchToken) return Promise.resolve(this.staticToken as string);
    if (this.cached !== undefined && !isTokenStale(this.cached, this.now())) return Promise.resolve(this.cached);
    if (this.inFlight) return this.inFlight;
    this.fetches++;
    const request = (async () => {
      try {
        const token = await fetchToken();
        if (typeof token !== 'string' || token.length === 0) {
          throw new StreamstraightError('UNAUTHORIZED', '`fetchToken` must resolve to a non-empty token string.');
        }
        this.cached = token;
        return token;
      } finally {
        this.inFlight = undefined;
      }
    })();
    this.inFlight = request;
    return request;
  }

  /** Forgets the cached token (the relay refused it): the next {@link get} fetches a new one. */
  invalidate(): void {
    if (this.fetchToken) this.cached = undefined;
  }
}
