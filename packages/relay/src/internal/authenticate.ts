import { type ErrorPayload, MUX_EXTENSION, describeValue, PROTOCOL_VERSION, StreamstraightError, isValidStreamId, parseConsumerSubscribe } from '@ss/core/protocol';
import { createHash } from 'node:crypto';
import { type ApiKeyCheck, bearerToken } from '../api-keys.js';
import type { ThrottledLog } from './throttled-log.js';
import type { RelaySocket, SocketIdentity } from './relay-socket.js';
import { type PayloadShapeLimits, payloadShapeProblem } from './payload-shape.js';
import { apiKeyId } from './producer-quotas.js';
import { VerifiedTokens } from './verified-tokens.js';

/** What the handshake check needs. */
export interface AuthenticateOptions {
  apiKeys: readonly string[];
  checkApiKey: ApiKeyCheck;
  clockToleranceSeconds: number;
  /** Where refused handshakes are logged (warn, at most one line per code every 10 s). */
  throttledLog?: ThrottledLog;
  /** Bounds on the shape of the handshake's `auth` object. */
  payloadLimits: PayloadShapeLimits;
  /** Told about every refused handshake, with the client's address (for the per-IP rate limit). */
  onRefused?: (address: string) => void;
  /** Refusals for a wrong credential (`UNAUTHORIZED`) one presented API key or token may cause per window before it is refused at once (`RATE_LIMITED`). 0: off. */
  maxFailedHandshakesPerKey?: number;
  /** The window of `maxFailedHandshakesPerKey`. */
  failedHandshakeWindowMs?: number;
  /** Counts refusals by limit. */
  onLimited?: (limit: 'maxFailedHandshakesPerKey') => void;
}

/** Credentials remembered at most (failed ones); the oldest are forgotten first. */
const MAX_TRACKED_CREDENTIALS = 100_000;

/**
 * Wrong credentials (an unknown API key, an expired or forged token) by a hash of their value:
 * one that keeps failing, from any address, is refused before any check for the rest of its
 * window. A valid key never fails authentication, so no valid producer is ever refused by this.
 */
class FailedCredentials {
  private readonly failures = new Map<string, { count: number; windowEndsAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** How long `credential` stays refused, or undefined when it may be checked. */
  blockedFor(credential: string | undefined): number | undefined {
    if (credential === undefined || this.limit <= 0) return undefined;
    const entry = this.failures.get(hashOf(credential));
    const now = Date.now();
    if (!entry || entry.windowEndsAt <= now || entry.count < this.limit) return undefined;
    return entry.windowEndsAt - now;
  }

  note(credential: string | undefined): void {
    if (credential === undefined || this.limit <= 0) return;
    const key = hashOf(credential);
    const now = Date.now();
    let entry = this.failures.get(key);
    if (!entry || entry.windowEndsAt <= now) {
      this.failures.delete(key);
      if (this.failures.size >= MAX_TRACKED_CREDENTIALS) this.failures.delete(this.failures.keys().next().value!);
      entry = { count: 0, windowEndsAt: now + this.windowMs };
      this.failures.set(key, entry);
    }
    entry.count++;
  }
}

function hashOf(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').slice(0, 22);
}

/** The API key or client token a handshake presents, if any. */
function presentedCredential(socket: RelaySocket): string | undefined {
  const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
  if (auth.role === 'consumer') return typeof auth.token === 'string' && auth.token.length > 0 ? auth.token : undefined;
  const header = socket.handshake.headers.authorization;
  return bearerToken(Array.isArray(header) ? header[0] : header) ?? (typeof auth.apiKey === 'string' ? auth.apiKey : undefined);
}


/**
 * A refused handshake: the client sees `connect_error` with a plain human `message` and `data`
 * `{ code, message }` (Socket.IO's CONNECT_ERROR packet `{ message, data }`), so an SDK that
 * shows the message (Streamstraight's Python SDK prints it) shows a sentence.
 */
function refusal(code: ErrorPayload['code'], message: string): Error & { data: ErrorPayload } {
  const data: ErrorPayload = { code, message };
  return Object.assign(new Error(message), { data });
}

async function identify(socket: RelaySocket, options: AuthenticateOptions, tokens: VerifiedTokens): Promise<SocketIdentity> {
  const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
  const problem = payloadShapeProblem(auth, options.payloadLimits);
  if (problem) throw new StreamstraightError('BAD_REQUEST', `Handshake auth refused: ${problem.message}.`);
  if (auth.version !== undefined && auth.version !== PROTOCOL_VERSION) {
    throw new StreamstraightError('BAD_REQUEST', `Unsupported protocol version ${describeValue(auth.version)}; this relay speaks "${PROTOCOL_VERSION}".`);
  }
  if (auth.role === 'producer') {
    const header = socket.handshake.headers.authorization;
    const presented = bearerToken(Array.isArray(header) ? header[0] : header) ?? (typeof auth.apiKey === 'string' ? auth.apiKey : undefined);
    if (!options.checkApiKey(presented)) {
      throw new StreamstraightError('UNAUTHORIZED', presented ? 'Wrong API key. Use a key the relay was started with.' : 'Missing API key: send the header "Authorization: Bearer <api key>".');
    }
    const keyId = apiKeyId(presented!);
    if (Array.isArray(auth.extensions) && auth.extensions.includes(MUX_EXTENSION)) return { role: 'producer', protocol: 'mux', keyId };
    if (!isValidStreamId(auth.streamId)) {
      throw new StreamstraightError('INVALID_STREAM_ID', `Invalid stream id ${describeValue(auth.streamId)} in the handshake: use 1-256 characters of A-Z a-z 0-9 . _ : ~ -`);
    }
    return { role: 'producer', protocol: 'v1', streamId: auth.streamId, overwrite: auth.overwriteExistingStream === true, keyId };
  }
  if (auth.role === 'consumer') {
    if (typeof auth.token !== 'string' || auth.token.length === 0) {
      throw new StreamstraightError('UNAUTHORIZED', 'Missing client token: connect with auth { role: "consumer", token }. Mint one with mintClientToken or POST /v1/token.');
    }
    const claims = await tokens.verify(auth.token);
    if (auth.subscribe === undefined) return { role: 'consumer', claims };
    let subscribe: { streamId: string; fromSeq?: number };
    try {
      subscribe = parseConsumerSubscribe(auth.subscribe);
    } catch {
      throw new StreamstraightError('BAD_REQUEST', 'Malformed auth.subscribe in the handshake: expected { streamId: string, fromSeq?: integer >= 0 }.');
    }
    return { role: 'consumer', claims, subscribe: { streamId: subscribe.streamId, fromSeq: subscribe.fromSeq ?? 0 } };
  }
  throw new StreamstraightError('BAD_REQUEST', 'Handshake auth.role must be "producer" or "consumer".');
}

/** Socket.IO middleware: decides who a connection is, or refuses it with a typed error. */
export function authenticate(options: AuthenticateOptions) {
  const tokens = new VerifiedTokens(options.apiKeys, options.clockToleranceSeconds);
  const failed = new FailedCredentials(options.maxFailedHandshakesPerKey ?? 0, options.failedHandshakeWindowMs ?? 10_000);
  return (socket: RelaySocket, next: (error?: Error) => void): void => {
    const credential = presentedCredential(socket);
    const blockedFor = failed.blockedFor(credential);
    if (blockedFor !== undefined) {
      options.onLimited?.('maxFailedHandshakesPerKey');
      options.onRefused?.(socket.conn.remoteAddress);
      const error = refusal('RATE_LIMITED', `This credential was refused too often; it is refused without a check for ${blockedFor} ms. Use a valid API key or a fresh client token.`);
      error.data.retryInMs = blockedFor;
      next(error);
      return;
    }
    identify(socket, options, tokens).then(
      (identity) => {
        socket.data.identity = identity;
        next();
      },
      (error: unknown) => {
        const typed = StreamstraightError.from(error, 'UNAUTHORIZED');
        options.onRefused?.(socket.conn.remoteAddress);
        if (typed.code === 'UNAUTHORIZED') failed.note(credential);
        const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
        options.throttledLog?.write(
          'warn',
          `auth:socket.io:${typed.code}`,
          { transport: 'socket.io', code: typed.code, role: auth.role === 'producer' || auth.role === 'consumer' ? auth.role : undefined, remoteAddress: socket.handshake.address },
          `handshake refused: ${typed.message}`,
        );
        next(refusal(typed.code, typed.message));
      },
    );
  };
}
