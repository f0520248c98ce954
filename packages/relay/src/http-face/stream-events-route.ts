import { assertStreamId, StreamstraightError } from '@ss/core/protocol';
import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { ApiKeyCheck } from '../api-keys.js';
import type { RelayLogger } from '../logger.js';
import type { VerifiedTokens } from '../internal/verified-tokens.js';
import type { StreamStore } from '../store/stream-store.js';
import { EVENT_FORMATS, type EventFormat, type EventFormatName, ndjsonFormat, sseFormat, textFormat } from './event-formats.js';
import type { HttpFaceMetrics } from './http-face-metrics.js';
import { authorizeRead } from './read-access.js';
import type { ReaderBudgets } from '../internal/reader-budget.js';
import { readerBody } from './reader-body.js';

/** Default interval of SSE keep-alive comments: 15 s. */
export const DEFAULT_SSE_KEEP_ALIVE_MS = 15_000;
/** Default SSE `retry:` (EventSource's reconnect delay): 1 s. */
export const DEFAULT_SSE_RETRY_MS = 1000;
/** Default `Cache-Control` of a read of a stream that had already ended. */
export const DEFAULT_FINISHED_CACHE_CONTROL = 'private, max-age=300';

/** What the stream-events route needs. */
export interface StreamEventsRouteOptions {
  store: StreamStore;
  /** The relay's reader budgets (its `limits.maxQueuedBytesPerReader` and `limits.slowReaderTimeoutMs`). */
  budgets: () => ReaderBudgets;
  keepAliveMs: number;
  checkApiKey: ApiKeyCheck;
  tokens: VerifiedTokens;
  metrics: HttpFaceMetrics;
  /** `Access-Control-Allow-Origin` policy: `true` any origin, `false` none, or the allowed origins. */
  corsOrigin: string | string[] | boolean;
  retryMs: number;
  finishedCacheControl: string;
  log: RelayLogger;
}

const SEQ_TEXT = /^\d{1,16}$/;

function parseSeq(raw: string, what: string, expected: string): number {
  const value = SEQ_TEXT.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new StreamstraightError('BAD_REQUEST', `Malformed ${what} ${JSON.stringify(raw.slice(0, 64))}: expected ${expected}.`);
  }
  return value;
}

function formatOf(c: Context, retryMs: number): { name: EventFormatName; format: EventFormat } {
  const requested = c.req.query('format');
  let name: EventFormatName;
  if (requested !== undefined) {
    if (!(EVENT_FORMATS as readonly string[]).includes(requested)) {
      throw new StreamstraightError('BAD_REQUEST', `Unknown ?format=${JSON.stringify(requested)}: use one of ${EVENT_FORMATS.join(', ')}.`);
    }
    name = requested as EventFormatName;
  } else {
    const accept = c.req.header('accept') ?? '';
    name = accept.includes('application/x-ndjson') ? 'ndjson' : accept.includes('text/plain') && !accept.includes('text/event-stream') ? 'text' : 'sse';
  }
  return { name, format: name === 'sse' ? sseFormat(retryMs) : name === 'ndjson' ? ndjsonFormat : textFormat };
}

export function corsPolicy(origin: string | string[] | boolean): string | string[] | ((origin: string) => string | null) {
  if (origin === true) return '*';
  if (origin === false) return () => null;
  return origin;
}

/**
 * Adds `GET /v1/streams/:streamId/events`: a stream as Server-Sent Events (or NDJSON, or text),
 * from `?fromSeq=` or `Last-Event-ID`, live until its end.
 * @param app - the relay's HTTP API.
 * @param options - store, credentials checks, limits and metrics.
 */
export function addStreamEventsRoute(app: Hono, options: StreamEventsRouteOptions): void {
  const path = '/v1/streams/:streamId/events';
  app.use(
    path,
    cors({
      origin: corsPolicy(options.corsOrigin),
      allowMethods: ['GET', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Last-Event-ID', 'Accept', 'Cache-Control'],
      maxAge: 600,
    }),
  );
  app.get(path, async (c) => {
    const streamId = assertStreamId(c.req.param('streamId'));
    const { name, format } = formatOf(c, options.retryMs);
    const lastEventId = c.req.header('last-event-id')?.trim();
    const fromSeqQuery = c.req.query('fromSeq');
    let fromSeq = 0;
    if (fromSeqQuery !== undefined) fromSeq = parseSeq(fromSeqQuery, '?fromSeq=', 'an integer >= 0, the first chunk to send');
    const resuming = lastEventId !== undefined && lastEventId !== '';
    if (resuming) fromSeq = parseSeq(lastEventId, 'Last-Event-ID', 'the id of the last chunk event received (an integer >= 0)') + 1;

    await authorizeRead({ authorization: c.req.header('authorization'), queryToken: c.req.query('token') }, streamId, options);
    const info = await options.store.info(streamId);
    if (info === undefined) {
      throw new StreamstraightError('STREAM_NOT_FOUND', `No stream ${JSON.stringify(streamId)}: it was never opened, or it expired.`, { retryInMs: 500 });
    }
    const finished = info.status === 'ended';
    if (finished && resuming && fromSeq > info.lastSeq) {
      // An EventSource reconnecting after the end: 204 tells it to stop reconnecting.
      return c.body(null, 204, { 'Cache-Control': 'no-store' });
    }
    options.metrics.readersOpened.inc({ format: name });
    const bindings = c.env as Partial<HttpBindings> | undefined;
    const body = readerBody({
      store: options.store,
      info,
      fromSeq,
      format,
      keepAliveMs: options.keepAliveMs,
      budgets: options.budgets(),
      metrics: options.metrics,
      transportQueuedBytes: bindings?.outgoing ? () => bindings.outgoing?.writableLength ?? 0 : undefined,
      destroyConnection: bindings?.outgoing ? () => bindings.outgoing?.destroy() : undefined,
      onDrop: (reason, queuedBytes) => {
        options.metrics.readersDropped.inc({ reason });
        options.log.warn({ streamId, reason, queuedBytes }, `HTTP reader of stream ${JSON.stringify(streamId)} dropped (${reason}) with ${queuedBytes} bytes queued; it resumes from its last event id`);
      },
    });
    return c.body(body, 200, {
      'Content-Type': format.contentType,
      'Cache-Control': finished ? options.finishedCacheControl : 'no-store',
      Vary: 'Authorization, Last-Event-ID, Accept',
      'X-Accel-Buffering': 'no',
    });
  });
}
