import { type ErrorPayload, StreamstraightError } from '@ss/core/protocol';
import type { RelayLogger } from '../logger.js';
import type { RelayMetrics } from './relay-metrics.js';
import type { RelaySocket } from './relay-socket.js';
import type { ThrottledLog } from './throttled-log.js';

/** Where a session reports what went wrong. */
export interface Reporting {
  log: RelayLogger;
  /** For errors that can come in floods (a store that is down): one line per code every 10 s. */
  throttledLog: ThrottledLog;
  metrics: RelayMetrics;
}

/** Codes that mean the store (not the client) failed: logged as errors. */
const STORE_FAILURES = new Set(['STORE_UNAVAILABLE', 'STREAM_CORRUPT', 'INTERNAL']);

/**
 * The wire form of an error, counted by code. A `StreamstraightError` travels as it is; anything
 * else is logged and hidden behind `INTERNAL`, so internals never leak to a client.
 */
export function toErrorPayload(error: unknown, reporting: Reporting): ErrorPayload {
  let payload: ErrorPayload;
  if (StreamstraightError.isInstance(error)) {
    payload = error.toJSON();
    if (STORE_FAILURES.has(error.code)) {
      reporting.throttledLog.write('error', `store:${error.code}`, { code: error.code, err: error.cause ?? error }, `store error: ${error.message}`);
    }
  } else {
    reporting.log.error({ err: error }, 'unexpected error while serving a client');
    payload = { code: 'INTERNAL', message: 'The relay failed to handle this request; nothing was stored. Retry it.', retryInMs: 1000 };
  }
  reporting.metrics.errors.inc({ code: payload.code });
  if (payload.quota) reporting.metrics.limitRefusals.inc({ limit: payload.quota.name });
  return payload;
}

/**
 * Answers a request through its Socket.IO ack when the client sent one; a client that sent no
 * ack still learns about a failure through a `stream:error` event.
 */
export function replyTo(socket: RelaySocket, ack: unknown, streamId?: string) {
  return <Value extends object>(result: ({ ok: true } & Value) | { ok: false; error: ErrorPayload }): void => {
    if (typeof ack === 'function') ack(result);
    else if (!result.ok) socket.emit('stream:error', streamId === undefined ? result.error : { ...result.error, streamId });
  };
}
