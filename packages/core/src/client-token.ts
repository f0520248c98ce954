/**
 * Client tokens: short-lived JWTs that let a reader (a browser tab, another service) read — and,
 * separately, cancel — the streams named in the token, and nothing else.
 *
 * The app mints them locally from its API key with {@link mintClientToken}, or asks the relay with
 * {@link fetchClientToken}; the relay checks them with {@link verifyClientToken}.
 *
 * - HS256, pinned on both sides. The signing secret is derived from the API key (HMAC-SHA256 of a
 *   fixed label keyed by the key), so the raw key never signs anything.
 * - The header's `kid` is a short, non-reversible fingerprint of the API key: the verifier picks the
 *   secret by `kid` among all its keys, so several keys are valid at once during a rotation.
 * - `exp` is required and the lifetime is capped at {@link MAX_CLIENT_TOKEN_LIFETIME_SECONDS}.
 *
 * WebCrypto only (no `node:` import): runs in Node, edge runtimes and browsers.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { StreamstraightError } from './errors.js';
import { assertStreamId, isValidStreamId } from './protocol.js';
import { defaultBaseUrl, requestRelayJson } from './relay-request.js';

/** The `aud` claim of every client token. */
export const CLIENT_TOKEN_AUDIENCE = 'streamstraight:reader';
/** The `iss` claim of every client token. */
export const CLIENT_TOKEN_ISSUER = 'streamstraight';
/** The only signing algorithm minted and accepted. */
export const CLIENT_TOKEN_ALGORITHM = 'HS256';
/** The longest lifetime (`exp - iat`) a client token may have: 24 hours. */
export const MAX_CLIENT_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** The most stream ids one token may name (in `streams`, and separately in `cancel`). */
export const MAX_CLIENT_TOKEN_STREAMS = 100;
/** The lifetime of a token when `expiresIn` is not given. */
export const DEFAULT_CLIENT_TOKEN_EXPIRES_IN = '10m';
/**
 * `streamIds: ALL_STREAMS` mints an unscoped token: it reads every stream of the relays that accept
 * its key (read only; it can cancel nothing). Streamstraight's own SDKs ask for this kind of token
 * (`POST /v1/token` with no body). Prefer tokens that name their streams.
 */
export const ALL_STREAMS = '*';

const SECRET_LABEL = 'streamstraight client token secret v1';
const KEY_ID_LABEL = 'streamstraight client token key id v1:';
const TIME_SPAN = /^\+? ?(\d+|\d+\.\d+) ?(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)(?: from now)?$/i;
const TIME_UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31557600 };

/** Options of {@link mintClientToken}. */
export interface MintClientTokenOptions {
  /** The API key the token is derived from (the relay must be configured with it). */
  apiKey: string;
  /** The streams the token may read: 1–100 valid stream ids, or {@link ALL_STREAMS} for every stream (read only). */
  streamIds: readonly string[] | typeof ALL_STREAMS;
  /**
   * How long the token lives: a time span (`'10m'`, `'2 hours'`, `'30s'`) or a number of seconds.
   * At most 24 hours. Default `'10m'`.
   */
  expiresIn?: string | number;
  /**
   * The streams the token may cancel: `true` for the same as `streamIds`, or an explicit list.
   * Default `false` (read only).
   */
  cancel?: boolean | readonly string[];
  /** Optional `sub` claim: who the token was minted for (a user id, for logs). */
  subject?: string;
}

/** What a valid client token grants, as returned by {@link verifyClientToken}. */
export interface ClientTokenClaims {
  /** The streams the token may read (empty for an unscoped token: see `allStreams`). */
  streamIds: string[];
  /** True for an unscoped token ({@link ALL_STREAMS}): it reads every stream. */
  allStreams?: boolean;
  /** The streams the token may cancel (empty when it may cancel none). */
  cancelStreamIds: string[];
  /** When the token stops being accepted. */
  expiresAt: Date;
  /** The fingerprint of the API key that signed it (the header's `kid`). */
  keyId: string;
  /** The `sub` claim, if the token has one. */
  subject?: string;
}

/** Options of {@link verifyClientToken}. */
export interface VerifyClientTokenOptions {
  /** Every API key currently valid (during a rotation, the old and the new one). */
  apiKeys: readonly string[];
  /** How many seconds of clock skew to forgive on `exp` and `iat`. Default 5. */
  clockToleranceSeconds?: number;
  /** The time to check against (tests). Default: now. */
  now?: Date;
}

/** Options of {@link fetchClientToken}. */
export interface FetchClientTokenOptions {
  /** The API key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** The relay's URL. Default: `STREAMSTRAIGHT_API_BASE_URL`, else `http://localhost:8787`. */
  baseUrl?: string;
  /** The streams the token may read: 1–100 valid stream ids. */
  streamIds: readonly string[];
  /** How long the token lives (see {@link MintClientTokenOptions.expiresIn}). Default `'10m'`. */
  expiresIn?: string | number;
  /** The streams the token may cancel (see {@link MintClientTokenOptions.cancel}). Default `false`. */
  cancel?: boolean | readonly string[];
  /** The `fetch` to use. Default: the global `fetch`. */
  fetch?: typeof globalThis.fetch;
}

// ---------------------------------------------------------------------------------------------
// Key derivation (cached: verifying derives one secret and one kid per configured key).

interface DerivedKey {
  keyId: string;
  secret: Uint8Array;
}

const DERIVED_CACHE_LIMIT = 32;
const derivedKeys = new Map<string, Promise<DerivedKey>>();

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

async function computeDerivedKey(apiKey: string): Promise<DerivedKey> {
  const encoder = new TextEncoder();
  const { subtle } = globalThis.crypto;
  const hmacKey = await subtle.importKey('raw', encoder.encode(apiKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const secret = new Uint8Array(await subtle.sign('HMAC', hmacKey, encoder.encode(SECRET_LABEL)));
  const keyId = toHex(await subtle.digest('SHA-256', encoder.encode(KEY_ID_LABEL + apiKey))).slice(0, 16);
  return { keyId, secret };
}

function deriveKey(apiKey: string): Promise<DerivedKey> {
  let derived = derivedKeys.get(apiKey);
  if (derived === undefined) {
    if (derivedKeys.size >= DERIVED_CACHE_LIMIT) derivedKeys.clear();
    derived = computeDerivedKey(apiKey);
    derived.catch(() => derivedKeys.delete(apiKey)); // never cache a failure
    derivedKeys.set(apiKey, derived);
  }
  return derived;
}

/**
 * The key id (`kid`) of the tokens minted from an API key: the first 16 hex digits of a labelled
 * SHA-256 of the key. Safe to log; it does not reveal the key.
 * @param apiKey - the API key.
 * @returns its 16-character fingerprint.
 * @example
 * ```ts
 * console.log('signing with key', await clientTokenKeyId(process.env.SS_API_KEY!))
 * ```
 */
export async function clientTokenKeyId(apiKey: string): Promise<string> {
  return (await deriveKey(apiKey)).keyId;
}

// ---------------------------------------------------------------------------------------------
// Minting

function badRequest(message: string): StreamstraightError {
  return new StreamstraightError('BAD_REQUEST', message);
}

function lifetimeSeconds(expiresIn: string | number): number {
  let seconds: number;
  if (typeof expiresIn === 'number') {
    seconds = Math.round(expiresIn);
  } else {
    const match = typeof expiresIn === 'string' ? TIME_SPAN.exec(expiresIn.trim()) : null;
    const unit = match?.[2]?.[0]?.toLowerCase();
    const multiplier = unit === undefined ? undefined : TIME_UNIT_SECONDS[unit];
    if (match === null || match[1] === undefined || multiplier === undefined) {
      throw badRequest(
        `Invalid expiresIn ${JSON.stringify(expiresIn)}: use a number of seconds or a time span such as '30s', '10m', '2h'.`,
      );
    }
    seconds = Math.round(Number.parseFloat(match[1]) * multiplier);
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw badRequest(`Invalid expiresIn ${JSON.stringify(expiresIn)}: a client token must live at least 1 second.`);
  }
  if (seconds > MAX_CLIENT_TOKEN_LIFETIME_SECONDS) {
    throw badRequest(
      `expiresIn ${JSON.stringify(expiresIn)} is too long: a client token lives at most 24 hours (${MAX_CLIENT_TOKEN_LIFETIME_SECONDS} seconds). Mint a shorter one and refresh it.`,
    );
  }
  return seconds;
}

function streamIdList(value: unknown, what: string, { allowEmpty }: { allowEmpty: boolean }): string[] {
  if (!Array.isArray(value)) throw badRequest(`${what} must be an array of stream ids.`);
  if ((!allowEmpty && value.length === 0) || value.length > MAX_CLIENT_TOKEN_STREAMS) {
    throw badRequest(`${what} must hold ${allowEmpty ? 0 : 1}-${MAX_CLIENT_TOKEN_STREAMS} stream ids, got ${value.length}.`);
  }
  return [...new Set(value.map((streamId) => assertStreamId(streamId)))];
}

/**
 * Mints a client token that lets a reader read (and optionally cancel) the given streams.
 * Runs locally, without calling the relay; the relay accepts it when it is configured with `apiKey`.
 *
 * @param options - the API key, the stream ids, `expiresIn` (default `'10m'`, at most 24 h),
 *   `cancel` and an optional `subject`.
 * @returns the token (a compact JWT).
 * @throws `StreamstraightError` `BAD_REQUEST` for a missing key, a bad lifetime or a bad list,
 *   `INVALID_STREAM_ID` for a bad stream id.
 * @example
 * ```ts
 * const token = await mintClientToken({ apiKey: process.env.SS_API_KEY!, streamIds: [chatId], cancel: true })
 * ```
 */
export async function mintClientToken(options: MintClientTokenOptions): Promise<string> {
  const { apiKey, expiresIn = DEFAULT_CLIENT_TOKEN_EXPIRES_IN, cancel = false, subject } = options;
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw badRequest('mintClientToken needs an apiKey: pass the API key the relay is configured with.');
  }
  const allStreams = options.streamIds === ALL_STREAMS;
  const streams = allStreams ? ALL_STREAMS : streamIdList(options.streamIds, 'streamIds', { allowEmpty: false });
  if (allStreams && cancel !== false) {
    throw badRequest('An unscoped token (streamIds: ALL_STREAMS) reads only: it cannot carry a cancel scope. Name the streams to cancel.');
  }
  const cancelStreams =
    cancel === true ? (streams as string[]) : cancel === false ? [] : streamIdList(cancel, 'cancel', { allowEmpty: true });
  if (subject !== undefined && typeof subject !== 'string') throw badRequest('subject must be a string.');
  const lifetime = lifetimeSeconds(expiresIn);
  const { keyId, secret } = await deriveKey(apiKey);
  const issuedAt = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ streams, cancel: cancelStreams })
    .setProtectedHeader({ alg: CLIENT_TOKEN_ALGORITHM, typ: 'JWT', kid: keyId })
    .setAudience(CLIENT_TOKEN_AUDIENCE)
    .setIssuer(CLIENT_TOKEN_ISSUER)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + lifetime);
  if (subject !== undefined) jwt.setSubject(subject);
  return jwt.sign(secret);
}

// ---------------------------------------------------------------------------------------------
// Verifying

function unauthorized(reason: string, cause?: unknown): StreamstraightError {
  return new StreamstraightError('UNAUTHORIZED', reason, cause === undefined ? {} : { cause });
}

const FETCH_NEW = 'Fetch a new client token from your app server.';

function describeJoseFailure(error: unknown): StreamstraightError {
  if (error instanceof joseErrors.JWTExpired) {
    return unauthorized(`The client token has expired. ${FETCH_NEW}`, error);
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (error.reason === 'missing') {
      return unauthorized(`The client token has no "${claim}" claim. ${FETCH_NEW} (mint it with mintClientToken).`, error);
    }
    if (claim === 'aud' || claim === 'iss') {
      return unauthorized(
        `The client token is not a Streamstraight reader token (wrong "${claim}"). Mint it with mintClientToken.`,
        error,
      );
    }
    return unauthorized(`The client token's "${claim}" claim is invalid (${error.message}). ${FETCH_NEW}`, error);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return unauthorized(
      'The client token signature is invalid: it was not minted with an API key this relay accepts, or it was altered.',
      error,
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) {
    return unauthorized(`The client token must be signed with ${CLIENT_TOKEN_ALGORITHM}. Mint it with mintClientToken.`, error);
  }
  if (error instanceof joseErrors.JOSEError) {
    return unauthorized(`The client token is malformed (${error.message}). ${FETCH_NEW}`, error);
  }
  return unauthorized(`The client token could not be verified. ${FETCH_NEW}`, error);
}

function claimStreamList(payload: Record<string, unknown>, claim: string, { allowEmpty }: { allowEmpty: boolean }): string[] {
  const value = payload[claim];
  if (
    !Array.isArray(value) ||
    (!allowEmpty && value.length === 0) ||
    value.length > MAX_CLIENT_TOKEN_STREAMS ||
    !value.every(isValidStreamId)
  ) {
    throw unauthorized(
      `The client token's "${claim}" claim must be a list of ${allowEmpty ? 0 : 1}-${MAX_CLIENT_TOKEN_STREAMS} stream ids. Mint it with mintClientToken.`,
    );
  }
  return value;
}

/**
 * Verifies a client token and returns what it grants. The secret is picked by the header's `kid`
 * among `apiKeys`, so tokens minted from any currently valid key are accepted.
 *
 * @param token - the compact JWT a reader presented.
 * @param options - the valid API keys, `clockToleranceSeconds` (default 5) and `now` (tests).
 * @returns the stream ids it may read and cancel, its expiry, key id and subject.
 * @throws `StreamstraightError` `UNAUTHORIZED` for every failure, with the reason in the message.
 * @example
 * ```ts
 * const claims = await verifyClientToken(token, { apiKeys: ['key-2025-06', 'key-2025-01'] })
 * if (!canReadStream(claims, streamId)) throw new StreamstraightError('FORBIDDEN', 'not your stream')
 * ```
 */
export async function verifyClientToken(token: string, options: VerifyClientTokenOptions): Promise<ClientTokenClaims> {
  const { apiKeys, clockToleranceSeconds = 5, now } = options;
  if (typeof token !== 'string' || token.length === 0) {
    throw unauthorized(`No client token was given. ${FETCH_NEW}`);
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw unauthorized(`The client token is not a well-formed JWT. ${FETCH_NEW}`, error);
  }
  if (header.alg !== CLIENT_TOKEN_ALGORITHM) {
    throw unauthorized(
      `The client token uses algorithm ${JSON.stringify(header.alg)}; only ${CLIENT_TOKEN_ALGORITHM} is accepted. Mint it with mintClientToken.`,
    );
  }
  if (typeof header.kid !== 'string') {
    throw unauthorized('The client token has no "kid" header naming its key. Mint it with mintClientToken.');
  }
  const keys = await Promise.all(apiKeys.filter((apiKey) => typeof apiKey === 'string' && apiKey.length > 0).map(deriveKey));
  const key = keys.find((candidate) => candidate.keyId === header.kid);
  if (key === undefined) {
    throw unauthorized(
      `The client token was signed with a key this relay does not know (kid ${header.kid}): the API key may have been rotated out. ${FETCH_NEW}`,
    );
  }

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key.secret, {
      algorithms: [CLIENT_TOKEN_ALGORITHM],
      audience: CLIENT_TOKEN_AUDIENCE,
      issuer: CLIENT_TOKEN_ISSUER,
      requiredClaims: ['exp', 'iat'],
      clockTolerance: clockToleranceSeconds,
      ...(now === undefined ? {} : { currentDate: now }),
    }));
  } catch (error) {
    throw describeJoseFailure(error);
  }

  const exp = payload.exp as number; // jose checked it is a number
  const iat = payload.iat as number;
  const nowSeconds = Math.floor((now ?? new Date()).getTime() / 1000);
  if (iat > nowSeconds + clockToleranceSeconds) {
    throw unauthorized(`The client token was issued in the future ("iat" claim): check the clocks. ${FETCH_NEW}`);
  }
  if (exp - iat > MAX_CLIENT_TOKEN_LIFETIME_SECONDS) {
    throw unauthorized(
      `The client token lives longer than 24 hours (exp - iat = ${exp - iat} s), which is refused. Mint one with a shorter expiresIn.`,
    );
  }
  const allStreams = payload.streams === ALL_STREAMS;
  const streamIds = allStreams ? [] : claimStreamList(payload, 'streams', { allowEmpty: false });
  const cancelStreamIds = payload.cancel === undefined ? [] : claimStreamList(payload, 'cancel', { allowEmpty: true });
  if (allStreams && cancelStreamIds.length > 0) throw unauthorized('An unscoped client token cannot carry a cancel scope. Mint it with mintClientToken.');
  if (payload.sub !== undefined && typeof payload.sub !== 'string') {
    throw unauthorized('The client token\'s "sub" claim must be a string. Mint it with mintClientToken.');
  }
  const claims: ClientTokenClaims = { streamIds, cancelStreamIds, expiresAt: new Date(exp * 1000), keyId: key.keyId };
  if (allStreams) claims.allStreams = true;
  if (typeof payload.sub === 'string') claims.subject = payload.sub;
  return claims;
}

/**
 * Whether verified claims allow reading a stream.
 * @param claims - the result of {@link verifyClientToken}.
 * @param streamId - the stream the reader asks for.
 * @returns true when the token names the stream in `streams`, or is unscoped (`allStreams`).
 * @example
 * ```ts
 * if (!canReadStream(claims, 'chat-42')) throw new StreamstraightError('FORBIDDEN', 'token does not cover chat-42')
 * ```
 */
export function canReadStream(claims: Pick<ClientTokenClaims, 'streamIds' | 'allStreams'>, streamId: string): boolean {
  return claims.allStreams === true || claims.streamIds.includes(streamId);
}

/**
 * Whether verified claims allow cancelling a stream.
 * @param claims - the result of {@link verifyClientToken}.
 * @param streamId - the stream the reader wants to stop.
 * @returns true when the token names the stream in `cancel`.
 * @example
 * ```ts
 * if (!canCancelStream(claims, 'chat-42')) throw new StreamstraightError('FORBIDDEN', 'no cancel scope')
 * ```
 */
export function canCancelStream(claims: Pick<ClientTokenClaims, 'cancelStreamIds'>, streamId: string): boolean {
  return claims.cancelStreamIds.includes(streamId);
}

// ---------------------------------------------------------------------------------------------
// Asking the relay

/**
 * Asks the relay to mint a client token (`POST {baseUrl}/v1/token`). Use it when the app prefers
 * not to mint locally with {@link mintClientToken}; the result is the same kind of token.
 *
 * @param options - the API key, `baseUrl`, the stream ids, `expiresIn`, `cancel` and `fetch`.
 * @returns the token.
 * @throws `StreamstraightError` with the relay's code (`UNAUTHORIZED` for a wrong key,
 *   `BAD_REQUEST`…), or `RELAY_UNAVAILABLE` when the relay cannot be reached.
 * @example
 * ```ts
 * const token = await fetchClientToken({ apiKey, baseUrl: 'https://relay.example.com', streamIds: [chatId] })
 * ```
 */
export async function fetchClientToken(options: FetchClientTokenOptions): Promise<string> {
  const { apiKey, expiresIn = DEFAULT_CLIENT_TOKEN_EXPIRES_IN, cancel = false } = options;
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw badRequest('fetchClientToken needs an apiKey: pass the API key the relay is configured with.');
  }
  const streamIds = streamIdList(options.streamIds, 'streamIds', { allowEmpty: false });
  const baseUrl = (options.baseUrl ?? defaultBaseUrl()).replace(/\/+$/, '');
  const url = `${baseUrl}/v1/token`;
  const record = await requestRelayJson({ url, apiKey, body: { streamIds, expiresIn, cancel }, fetch: options.fetch, purpose: 'to fetch a client token' });
  if (typeof record.token !== 'string' || record.token === '') {
    throw new StreamstraightError('INTERNAL', `The relay at ${url} answered without a token: is baseUrl the relay's URL?`);
  }
  return record.token;
}
