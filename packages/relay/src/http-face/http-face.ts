/**
 * The relay's HTTP face: reads over Server-Sent Events (or NDJSON, or text) and the HTTP producer,
 * on the relay's HTTP server, over the same store as the Socket.IO face.
 */
import type { Hono } from 'hono';
import type { ApiKeyCheck } from '../api-keys.js';
import type { RelayLogger } from '../logger.js';
import { type ProducerOperations, createProducerOperations } from '../internal/producer-operations.js';
import type { ProducerQuotas } from '../internal/producer-quotas.js';
import type { ReaderBudgets } from '../internal/reader-budget.js';
import type { RelayMetrics } from '../internal/relay-metrics.js';
import { VerifiedTokens } from '../internal/verified-tokens.js';
import type { StreamStore } from '../store/stream-store.js';
import { HttpFaceMetrics } from './http-face-metrics.js';
import type { ProducerHandle } from '../internal/producer-session.js';
import { addCancelRoute } from './cancel-route.js';
import { addProducerRoutes } from './producer-routes.js';
import {
  DEFAULT_FINISHED_CACHE_CONTROL,
  DEFAULT_SSE_KEEP_ALIVE_MS,
  DEFAULT_SSE_RETRY_MS,
  addStreamEventsRoute,
  corsPolicy,
} from './stream-events-route.js';

/**
 * Options of the HTTP face (`createRelay({ http: { … } })`). Every one has a safe default. HTTP
 * readers are held to the same per-reader bounds as Socket.IO readers: `limits.maxQueuedBytesPerReader`
 * and `limits.slowReaderTimeoutMs`.
 */
export interface HttpFaceOptions {
  /** Interval of `: keep-alive` comments on a quiet SSE response. Default 15 s. */
  keepAliveMs?: number;
  /** The SSE `retry:` field: EventSource's reconnect delay. Default 1 s. */
  retryMs?: number;
  /** `Cache-Control` of a read of a stream that had already ended (live reads are `no-store`). Default `private, max-age=300`. */
  finishedCacheControl?: string;
  /** Largest HTTP producer request body in bytes (413 `CHUNK_TOO_LARGE` beyond). Default: 8 MiB, or 4 × `maxChunkBytes` if larger. */
  maxRequestBytes?: number;
}

/** What the HTTP face needs from the relay. */
export interface HttpFaceContext {
  store: StreamStore;
  apiKeys: readonly string[];
  checkApiKey: ApiKeyCheck;
  clockToleranceSeconds: number;
  maxChunkBytes: number;
  corsOrigin: string | string[] | boolean;
  metrics: RelayMetrics;
  log: RelayLogger;
  /** The relay's reader budgets (read at request time). */
  readerBudgets: () => ReaderBudgets;
  /** The relay's producer quotas (read at request time). */
  quotas: () => ProducerQuotas;
  /** Which Socket.IO producer holds which stream on this relay (for cancels). */
  producers: () => Map<string, ProducerHandle>;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

/**
 * Builds the routes of the HTTP face, for `createHttpApi({ extend })`.
 * @param options - the limits (see {@link HttpFaceOptions}).
 * @param context - the relay's store, keys and metrics.
 * @returns a function that adds the routes to the relay's HTTP API.
 */
export function httpFaceRoutes(options: HttpFaceOptions, context: HttpFaceContext): (app: Hono) => void {
  const metrics = new HttpFaceMetrics(context.metrics.registry);
  const tokens = new VerifiedTokens(context.apiKeys, context.clockToleranceSeconds);
  let operations: ProducerOperations | undefined;
  const producerOperations = () => (operations ??= createProducerOperations({ ...context, quotas: context.quotas() }));
  return (app) => {
    addStreamEventsRoute(app, {
      store: context.store,
      checkApiKey: context.checkApiKey,
      tokens,
      metrics,
      corsOrigin: context.corsOrigin,
      budgets: context.readerBudgets,
      keepAliveMs: positive(options.keepAliveMs, DEFAULT_SSE_KEEP_ALIVE_MS),
      retryMs: positive(options.retryMs, DEFAULT_SSE_RETRY_MS),
      finishedCacheControl: options.finishedCacheControl ?? DEFAULT_FINISHED_CACHE_CONTROL,
      log: context.log,
    });
    addCancelRoute(app, {
      store: context.store,
      checkApiKey: context.checkApiKey,
      tokens,
      producers: context.producers,
      corsOrigin: corsPolicy(context.corsOrigin),
    });
    addProducerRoutes(app, {
      operations: producerOperations,
      checkApiKey: context.checkApiKey,
      maxRequestBytes: positive(options.maxRequestBytes, Math.max(8 * 1024 * 1024, context.maxChunkBytes * 4)),
    });
  };
}
