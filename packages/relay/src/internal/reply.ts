import { type ErrorPayload, StreamstraightError } from '@ss/core/protocol';
import type { RelayMetrics } from './relay-metrics.js';
import type { RelaySocket } from './relay-socket.js';

/** Where unexpected errors are reported. */
export type Log = (message: string, error?: unknown) => void;

/** Where a session reports what went wrong. */
export interface Reporting {
  log: Log;
  metrics: RelayMetrics;
}

/**
 * The wire form of an error, counted by code. A `StreamstraightError` travels as it is; anything
 * else is logged and hidden behind `INTERNAL`, so internals never leak to a client.
 */
export function toErrorPayload(error: unknown, reporting: Reporting): ErrorPayload {
  let payload: ErrorPayload;
  if (StreamstraightError.isInstance(error)) payload = error.toJSON();
  else {
    reporting.log('unexpected error while serving a client', error);
    payload = { code: 'INTERNAL', message: 'The relay failed to handle this request; nothing was stored. Retry it.', retryInMs: 1000 };
  }
  reporting.metrics.errors.inc({ code: payload.code });
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
