/**
 * The relay's HTTP API (a Hono app, served beside Socket.IO by the relay):
 *
 * - `POST /v1/token` — an app server exchanges its API key for a reader's client token.
 * - `GET /v1/streams/:streamId` — a stream's status (API key, or a client token for that stream).
 * - `GET /livez` — liveness: 200 while the process serves requests.
 * - `GET /readyz` — readiness: 200 when the store is reachable and the relay is not shutting down, else 503.
 * - `GET /healthz` — liveness and store health in one (503 when degraded), with details.
 * - `GET /metrics` — Prometheus metrics, when a `metrics` source is given.
 *
 * Every error answer is `{ error: { code, message } }` with the status of the code.
 */
import {
  assertStreamId,
  type ErrorPayload,
  type StreamInfo,
  StreamstraightError,
} from '@ss/core/protocol';
import { ALL_STREAMS, canReadStream, mintClientToken, verifyClientToken } from '@ss/core';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type ApiKeyCheck, bearerToken, createApiKeyCheck } from './api-keys.js';
import { ThrottledLog } from './internal/throttled-log.js';
import { type RelayLogger, createLogger } from './logger.js';
import type { StreamStore } from './store/stream-store.js';

/** What `/healthz` reports besides `status: 'ok'`; a `status: 'degraded'` turns the answer into a 503. */
export type HealthReport = { status?: string } & Record<string, unknown>;

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** The valid API keys. Tokens are minted with the first; client tokens of any of them are accepted. */
  apiKeys: readonly string[];
  /** The constant-time key check (default: `createApiKeyCheck(apiKeys)`); pass the relay's own to share it. */
  checkApiKey?: ApiKeyCheck;
  /** Where stream status comes from. */
  store: Pick<StreamStore, 'info'>;
  /** Extra health facts for `/healthz` (for example the store's `health()`). Default: none. */
  health?: () => HealthReport | Promise<HealthReport>;
  /** What `/readyz` reports; `status: 'degraded'` answers 503. Default: `health`. */
  readiness?: () => HealthReport | Promise<HealthReport>;
  /** The Prometheus exposition for `GET /metrics`; without it the route is absent. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Requests (debug), refused credentials (warn, throttled) and unexpected errors (error) go here. Default: {@link createLogger}. */
  log?: RelayLogger;
  /** The throttle for repeated warnings; pass the relay's own to share it. Default: one of its own over `log`. */
  throttledLog?: ThrottledLog;
  /**
   * Whether `POST /v1/token` with no body mints an unscoped read token (every stream, read only,
   * {@link UNSCOPED_TOKEN_EXPIRES_IN}), as Streamstraight's own SDKs ask. Default `true`.
   */
  unscopedTokens?: boolean;
  /**
   * Rate limit of `POST /v1/token`, asked with the request's (valid) API key: `undefined` lets it
   * through, a number refuses it with a 429 `RATE_LIMITED` carrying that `retryInMs`. Default: none.
   */
  tokenRateLimit?: (apiKey: string) => number | undefined;
  /** Called with unexpected errors before a 500 is answered. Default: `log.error`. */
  onInternalError?: (error: unknown) => void;
  /**
   * Adds more routes to the app (the relay adds its HTTP reads and HTTP producer). They share the
   * app's error answers: a thrown `StreamstraightError` becomes `{ error: { code, message } }`.
   */
  extend?: (app: Hono) => void;
}

/** Lifetime of the unscoped token `POST /v1/token` mints for a request with no body. */
export const UNSCOPED_TOKEN_EXPIRES_IN = '5m';

/** Largest accepted `POST /v1/token` body: 100 ids of 256 characters fit with room to spare. */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

const TOKEN_BODY_SHAPE =
  '{ "streamIds": string[] (1-100 stream ids), "expiresIn"?: string | number (e.g. "10m" or 600, at most 24h), "cancel"?: boolean | string[] }';

function errorResponse(c: Context, error: StreamstraightError): Response {
  const body: { error: ErrorPayload } = { error: { code: error.code, message: error.message } };
  const headers: Record<string, string> = error.code === 'UNAUTHORIZED' ? { 'WWW-Authenticate': 'Bearer' } : {};
  if (error.code === 'RATE_LIMITED' && error.retryInMs !== undefined) {
    body.error.retryInMs = error.retryInMs;
    headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryInMs / 1000)));
  }
  return c.json(body, error.status as ContentfulStatusCode, headers);
}

function badBody(detail: string): StreamstraightError {
  return new StreamstraightError('BAD_REQUEST', `Malformed POST /v1/token body: ${detail}. Expected JSON ${TOKEN_BODY_SHAPE}.`);
}

interface TokenRequest {
  streamIds: string[];
  expiresIn?: string | number;
  cancel?: boolean | string[];
}

function parseTokenRequest(value: unknown): TokenRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badBody('not a JSON object');
  const record = value as Record<string, unknown>;
  const { streamIds, expiresIn, cancel } = record;
  if (!Array.isArray(streamIds) || !streamIds.every((id) => typeof id === 'string')) {
    throw badBody('"streamIds" must be an array of strings');
  }
  if (expiresIn !== undefined && typeof expiresIn !== 'string' && typeof expiresIn !== 'number') {
    throw badBody('"expiresIn" must be a string or a number of seconds');
  }
  if (
    cancel !== undefined &&
    typeof cancel !== 'boolean' &&
    !(Array.isArray(cancel) && cancel.every((id) => typeof id === 'string'))
  ) {
    throw badBody('"cancel" must be a boolean or an array of stream ids');
  }
  const request: TokenRequest = { streamIds: streamIds as string[] };
  if (expiresIn !== undefined) request.expiresIn = expiresIn as string | number;
  if (cancel !== undefined) request.cancel = cancel as boolean | string[];
  return request;
}

const looksLikeJwt = (credential: string): boolean => credential.split('.').length === 3;

/**
 * Builds the relay's HTTP API as a Hono app. Mount it on any server that speaks `fetch`
 * (the relay serves it with `@hono/node-server`).
 *
 * @param options - the API keys (first one signs), the key check, the store and the health source.
 * @returns the Hono app.
 * @example
 * ```ts
 * const app = createHttpApi({ apiKeys: ['key'], store, health: () => store.health() })
 * serve({ fetch: app.fetch, port: 8787 })
 * ```
 */
export function createHttpApi(options: HttpApiOptions): Hono {
  const log = options.log ?? createLogger();
  const throttledLog = options.throttledLog ?? new ThrottledLog(log);
  const { apiKeys, store, health = () => ({}), onInternalError = (error) => log.error({ err: error }, 'unexpected error in the HTTP API') } = options;
  const checkApiKey = options.checkApiKey ?? createApiKeyCheck(apiKeys);
  const signingKey = apiKeys[0];
  if (signingKey === undefined) {
    throw new StreamstraightError('BAD_REQUEST', 'The relay needs at least one API key to serve its HTTP API.');
  }

  /** Requires a valid API key. */
  function requireApiKey(c: Context): void {
    const credential = bearerToken(c.req.header('authorization'));
    if (credential === undefined) {
      throw new StreamstraightError('UNAUTHORIZED', 'Missing API key: send "Authorization: Bearer <API key>".');
    }
    if (!checkApiKey(credential)) {
      throw new StreamstraightError('UNAUTHORIZED', 'Invalid API key: use one of the keys the relay is configured with.');
    }
  }

  /** Requires a valid API key, or a client token whose scope covers `streamId`. */
  async function requireReadAccess(c: Context, streamId: string): Promise<void> {
    const credential = bearerToken(c.req.header('authorization'));
    if (credential === undefined) {
      throw new StreamstraightError(
        'UNAUTHORIZED',
        'Missing credentials: send "Authorization: Bearer <API key or client token>".',
      );
    }
    if (checkApiKey(credential)) return;
    if (!looksLikeJwt(credential)) {
      throw new StreamstraightError(
        'UNAUTHORIZED',
        'Invalid credentials: the bearer value is neither a configured API key nor a client token.',
      );
    }
    const claims = await verifyClientToken(credential, { apiKeys });
    if (!canReadStream(claims, streamId)) {
      throw new StreamstraightError(
        'FORBIDDEN',
        `This client token does not cover stream ${JSON.stringify(streamId)}: mint one whose streamIds include it.`,
      );
    }
  }

  const app = new Hono();

  // One debug line per request: method, path (never the query: it may hold a token), status, time.
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, durationMs: Math.round((performance.now() - started) * 10) / 10 }, 'http request');
  });

  app.post(
    '/v1/token',
    bodyLimit({
      maxSize: MAX_TOKEN_BODY_BYTES,
      onError: (c) => errorResponse(c, badBody(`larger than ${MAX_TOKEN_BODY_BYTES} bytes`)),
    }),
    async (c) => {
      requireApiKey(c);
      const retryInMs = options.tokenRateLimit?.(bearerToken(c.req.header('authorization'))!);
      if (retryInMs !== undefined) {
        throw new StreamstraightError('RATE_LIMITED', `Too many token requests with this API key; retry in ${retryInMs} ms.`, { retryInMs });
      }
      const text = await c.req.text();
      if (text.trim() === '') {
        // Streamstraight's SDKs send no body: they cannot name streams.
        if (options.unscopedTokens === false) {
          throw new StreamstraightError(
            'BAD_REQUEST',
            `This relay does not mint unscoped tokens (it runs with unscoped tokens off). Send a JSON body ${TOKEN_BODY_SHAPE}.`,
          );
        }
        const token = await mintClientToken({ apiKey: signingKey, streamIds: ALL_STREAMS, expiresIn: UNSCOPED_TOKEN_EXPIRES_IN });
        log.debug({ expiresIn: UNSCOPED_TOKEN_EXPIRES_IN }, 'minted an unscoped read token (request with no body)');
        c.header('Cache-Control', 'no-store');
        return c.json({ token });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw badBody('not valid JSON');
      }
      const request = parseTokenRequest(parsed);
      const token = await mintClientToken({ apiKey: signingKey, ...request });
      c.header('Cache-Control', 'no-store');
      return c.json({ token });
    },
  );

  app.get('/v1/streams/:streamId', async (c) => {
    const streamId = assertStreamId(c.req.param('streamId'));
    await requireReadAccess(c, streamId);
    const info: StreamInfo | undefined = await store.info(streamId);
    if (info === undefined) {
      throw new StreamstraightError(
        'STREAM_NOT_FOUND',
        `No stream ${JSON.stringify(streamId)}: it was never opened, or it expired.`,
      );
    }
    const body: StreamInfo = { streamId: info.streamId, status: info.status, lastSeq: info.lastSeq };
    if (info.endReason !== undefined) body.endReason = info.endReason;
    c.header('Cache-Control', 'no-store');
    return c.json(body);
  });

  options.extend?.(app);

  if (options.metrics) {
    const scrape = options.metrics;
    app.get('/metrics', async (c) => {
      const { contentType, body } = await scrape();
      return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
    });
  }

  /** Answers a health report: 200 `{ status: 'ok', … }`, or 503 when it says `degraded` or throws. */
  const answerReport = async (c: Context, source: () => HealthReport | Promise<HealthReport>, what: string) => {
    c.header('Cache-Control', 'no-store');
    let report: HealthReport;
    try {
      report = await source();
    } catch (error) {
      onInternalError(error);
      return c.json({ status: 'degraded', detail: `The ${what} check failed.` }, 503);
    }
    const degraded = report.status === 'degraded';
    if (degraded) throttledLog.write('warn', `${what}:degraded`, { detail: report.detail }, `${what} check: degraded`);
    return c.json({ status: 'ok', ...report }, degraded ? 503 : 200);
  };

  app.get('/livez', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok' });
  });
  app.get('/readyz', (c) => answerReport(c, options.readiness ?? health, 'readiness'));
  app.get('/healthz', (c) => answerReport(c, health, 'health'));

  app.notFound((c) =>
    errorResponse(
      c,
      new StreamstraightError(
        'NOT_FOUND',
        `No route ${c.req.method} ${c.req.path}. The relay serves POST /v1/token, GET /v1/streams/:streamId, GET /livez, GET /readyz and GET /healthz.`,
      ),
    ),
  );

  app.onError((error, c) => {
    if (StreamstraightError.isInstance(error)) {
      if (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') {
        throttledLog.write(
          'warn',
          `auth:http:${error.code}`,
          { transport: 'http', code: error.code, method: c.req.method, path: c.req.path },
          `request refused: ${error.message}`,
        );
      }
      return errorResponse(c, error);
    }
    if (error instanceof HTTPException && error.status < 500) {
      const code = error.status === 401 ? 'UNAUTHORIZED' : error.status === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
      return errorResponse(c, new StreamstraightError(code, error.message || 'The request was refused.'));
    }
    onInternalError(error);
    return errorResponse(
      c,
      new StreamstraightError('INTERNAL', 'The relay hit an unexpected error; it has been logged. Try again.'),
    );
  });

  return app;
}
