/**
 * The Durable Streams protocol on the relay's HTTP server, under a path prefix (default `/ds`),
 * over the relay's own store: a Durable Streams stream is a relay stream (`/ds/chat-42` is
 * stream `chat-42`), its offsets are chunk positions, closing it ends it.
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canReadStream } from '@ss/core';
import { type ErrorPayload, StreamstraightError } from '@ss/core/protocol';
import type { Registry } from 'prom-client';
import { type ApiKeyCheck, bearerToken } from '../api-keys.js';
import type { VerifiedTokens } from '../internal/verified-tokens.js';
import type { StreamStore } from '../store/stream-store.js';
import { FaceError, send, sendThrown } from './http-io.js';
import { lookUp, removeStream } from './lifecycle.js';
import { DurableStreamsMetrics } from './metrics.js';
import { formatOffset } from './offsets.js';
import { readStream } from './read-stream.js';
import { FIELD } from './stream-config.js';
import { RESERVED_SEGMENT, streamIdOfPath } from './stream-paths.js';
import { appendToStream, createStream } from './write-stream.js';

/** Options of the Durable Streams face (`createRelay({ durableStreams })`). */
export interface DurableStreamsOptions {
  /** The path prefix streams live under. Default `/ds`. */
  path?: string;
  /**
   * `authenticated` (default): PUT, POST and DELETE need the API key (`Authorization: Bearer`);
   * GET and HEAD need the API key or a client token covering the stream (`Authorization: Bearer`
   * or `?token=`). `open`: no credentials at all — for local tests and the conformance suite only.
   */
  access?: 'authenticated' | 'open';
  /** How long a long-poll waits for data before answering 204; also the SSE keep-alive interval. Default 20 s. */
  longPollTimeoutMs?: number;
  /** An SSE response ends after this long (the client reconnects from its last offset), per the protocol's ~60 s. Default 60 s. */
  sseMaxDurationMs?: number;
  /** Largest PUT or POST body, in bytes; larger is a 413. Default 1 MiB. */
  maxAppendBytes?: number;
  /** Largest catch-up response (or SSE batch), in stored bytes; the rest comes with the next offset. Default 1 MiB. */
  maxReadBytes?: number;
  /** An SSE reader with more than this many bytes waiting to be sent is dropped (it resumes from its last offset). Default 1 MiB. */
  maxReaderBufferBytes?: number;
  /** Most chunks a fork may copy from its source; more is a 413. Default 100,000. */
  maxForkChunks?: number;
}

/** What the face needs from the relay. */
export interface FaceContext {
  store: StreamStore;
  checkApiKey: ApiKeyCheck;
  verifiedTokens: VerifiedTokens;
  registry: Registry;
  onInternalError: (error: unknown) => void;
  /** The relay's failed-credential limit per address (`limits.maxFailedHandshakesPerIp`), shared with Socket.IO handshakes. */
  failedCredentials?: {
    /** The refusal for a request from `ip` that caused too many refusals lately, if it did. */
    refusal(ip: string | undefined): ErrorPayload | undefined;
    /** Counts a request refused for its credentials. */
    note(ip: string | undefined): void;
  };
}

/** The face: whether a request is its, and how it answers one. */
export interface DurableStreamsFace {
  readonly prefix: string;
  matches(url: string | undefined): boolean;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  /** Answers waiting long-polls (204) and ends SSE responses, so the HTTP server can close; later requests get 503. */
  close(): void;
  readonly metrics: DurableStreamsMetrics;
}

const looksLikeJwt = (credential: string): boolean => credential.split('.').length === 3;

/**
 * Builds the face.
 * @param options - prefix, access and limits.
 * @param context - the relay's store, key check, token cache and metrics registry.
 */
export function createDurableStreamsFace(options: DurableStreamsOptions, context: FaceContext): DurableStreamsFace {
  const prefix = (options.path ?? '/ds').replace(/\/+$/, '');
  if (!prefix.startsWith('/') || prefix.length < 2) {
    throw new StreamstraightError('BAD_REQUEST', `durableStreams.path ${JSON.stringify(options.path)} must be a path like /ds.`);
  }
  const access = options.access ?? 'authenticated';
  const readSettings = {
    longPollTimeoutMs: options.longPollTimeoutMs ?? 20_000,
    sseMaxDurationMs: options.sseMaxDurationMs ?? 60_000,
    maxReadBytes: options.maxReadBytes ?? 1024 * 1024,
    maxReaderBufferBytes: options.maxReaderBufferBytes ?? 1024 * 1024,
  };
  const writeSettings = { prefix, maxAppendBytes: options.maxAppendBytes ?? 1024 * 1024, maxForkChunks: options.maxForkChunks ?? 100_000 };
  const metrics = new DurableStreamsMetrics(context.registry);
  const shutdown = new AbortController();
  // Every live read listens to it: no listener limit.
  setMaxListeners(0, shutdown.signal);
  const observer = {
    shutdown: shutdown.signal,
    liveReaderStarted(mode: 'long-poll' | 'sse') {
      metrics.liveReaders.inc({ mode });
      let done = false;
      return () => {
        if (!done) metrics.liveReaders.dec({ mode });
        done = true;
      };
    },
    readerDropped: () => metrics.readersDropped.inc(),
  };
  const { store } = context;

  async function authorize(request: IncomingMessage, url: URL, streamId: string, write: boolean): Promise<void> {
    if (access === 'open') return;
    const address = request.socket.remoteAddress;
    const challenge = { 'www-authenticate': 'Bearer' };
    const refusal = context.failedCredentials?.refusal(address);
    if (refusal) {
      throw new FaceError(429, 'RATE_LIMITED', refusal.message, { 'retry-after': String(Math.max(1, Math.ceil((refusal.retryInMs ?? 1000) / 1000))) });
    }
    const refused = (message: string): FaceError => {
      context.failedCredentials?.note(address);
      return new FaceError(401, 'UNAUTHORIZED', message, challenge);
    };
    const credential = bearerToken(request.headers.authorization) ?? (write ? undefined : (url.searchParams.get('token') ?? undefined));
    if (credential === undefined) {
      throw new FaceError(401, 'UNAUTHORIZED', write ? 'Writes need the API key: send "Authorization: Bearer <API key>".' : 'Reads need credentials: "Authorization: Bearer <API key or client token>", or ?token=<client token>.', challenge);
    }
    if (context.checkApiKey(credential)) return;
    if (!looksLikeJwt(credential)) throw refused('Invalid credentials: the bearer value is neither a configured API key nor a client token.');
    if (write) throw new FaceError(403, 'FORBIDDEN', 'A client token only reads: PUT, POST and DELETE need the API key.');
    let claims: Awaited<ReturnType<VerifiedTokens['verify']>>;
    try {
      claims = await context.verifiedTokens.verify(credential);
    } catch (error) {
      if (StreamstraightError.isInstance(error) && error.code === 'UNAUTHORIZED') throw refused(error.message);
      throw error;
    }
    if (!canReadStream(claims, streamId)) {
      throw new FaceError(403, 'FORBIDDEN', `This client token does not cover stream ${JSON.stringify(streamId)}: mint one whose streamIds include it.`);
    }
  }

  async function serve(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') return send(response, 204, {});
    if (shutdown.signal.aborted) throw new FaceError(503, 'CLOSED', 'The relay is shutting down; retry (another relay behind the same URL will answer).', { 'retry-after': '1' });
    const path = url.pathname.slice(prefix.length);
    if (path.replace(/^\/+/, '').split('/')[0] === RESERVED_SEGMENT) {
      throw new FaceError(404, 'NOT_FOUND', 'The relay does not serve the Durable Streams subscription APIs (__ds).');
    }
    const streamId = streamIdOfPath(path);
    const write = method === 'PUT' || method === 'POST' || method === 'DELETE';
    if (!write && method !== 'GET' && method !== 'HEAD') {
      throw new FaceError(405, 'BAD_REQUEST', `Method ${method} is not part of the Durable Streams protocol: use PUT, POST, GET, HEAD or DELETE.`, { allow: 'GET, HEAD, PUT, POST, DELETE, OPTIONS' });
    }
    await authorize(request, url, streamId, write);
    if (method === 'PUT') return createStream(store, writeSettings, request, response, streamId, `${url.origin}${url.pathname}`);
    const found = await lookUp(store, streamId);
    if (found.state === 'missing') throw new FaceError(404, 'STREAM_NOT_FOUND', `No stream ${JSON.stringify(streamId)}: it was never created, or it expired or was deleted.`);
    if (found.state === 'gone') throw new FaceError(410, 'STREAM_NOT_FOUND', `Stream ${JSON.stringify(streamId)} was deleted (forks of it still read its data).`);
    const { view } = found;
    switch (method) {
      case 'POST':
        return appendToStream(store, writeSettings, request, response, view);
      case 'DELETE':
        await removeStream(store, view);
        return send(response, 204, {});
      case 'HEAD': {
        const headers: Record<string, string> = {
          'content-type': view.contentType,
          'stream-next-offset': formatOffset(view.tail),
          'cache-control': 'no-store',
          etag: `"${view.instance}:-1:${formatOffset(view.tail)}${view.closed ? ':c' : ''}"`,
        };
        if (view.closed) headers['stream-closed'] = 'true';
        if (view.ttlSeconds !== undefined) headers['stream-ttl'] = String(view.ttlSeconds);
        if (view.metadata[FIELD.expiresAt] !== undefined) headers['stream-expires-at'] = view.metadata[FIELD.expiresAt]!;
        return send(response, 200, headers);
      }
      default:
        return readStream(store, readSettings, observer, request, response, url, view);
    }
  }

  return {
    prefix,
    metrics,
    close: () => shutdown.abort(),
    matches: (url) => url !== undefined && (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)),
    async handle(request, response) {
      const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
      try {
        await serve(request, response, url);
      } catch (error) {
        if (response.headersSent) {
          if (!response.destroyed) response.destroy();
          if (!(error instanceof FaceError) && !StreamstraightError.isInstance(error)) context.onInternalError(error);
        } else {
          // A request body nobody read yet would keep the connection busy: let it drain.
          if (!request.complete) request.resume();
          sendThrown(response, error, context.onInternalError);
        }
      } finally {
        metrics.requests.inc({ method: request.method ?? 'GET', status: String(response.statusCode) });
      }
    },
  };
}

