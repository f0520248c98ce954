import { ERROR_HTTP_STATUS, type StreamstraightError, type StreamstraightErrorCode, errorFromPayload } from '@ss/core/protocol';

function hasCode(value: unknown): value is { code: string } {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' && (value as { code: string }).code in ERROR_HTTP_STATUS;
}

/**
 * Turns a Socket.IO `connect_error` into the relay's typed refusal, when it is one. The relay
 * refuses with `{code, message}` in `err.data`, and the same JSON in `err.message`; both are read
 * defensively. A transport failure (relay unreachable) has neither and gives `undefined`.
 * @param error - what socket.io-client passed to `connect_error`.
 * @returns the relay's error, or `undefined` for a transport failure.
 */
export function relayRefusal(error: unknown): StreamstraightError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { data, message } = error as { data?: unknown; message?: unknown };
  if (hasCode(data)) return errorFromPayload(data);
  if (typeof message === 'string' && message.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(message);
      if (hasCode(parsed)) return errorFromPayload(parsed);
    } catch {
      // not JSON: a transport failure
    }
  }
  return undefined;
}

const RETRYABLE: ReadonlySet<StreamstraightErrorCode> = new Set([
  'INTERNAL',
  'RELAY_UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'CLOSED',
  'TIMEOUT',
  'LEASE_LOST',
  // The relay dropped this reader for not reading fast enough: reconnect and resume from lastSeq.
  'SLOW_READER',
  // Too many connections or failed handshakes from here for now: retry after `retryInMs`.
  'RATE_LIMITED',
]);

/**
 * Whether an error from the relay is worth retrying (the relay or its store is having a moment),
 * as opposed to an answer that will not change (forbidden, not found, bad request).
 * @param code - the error code.
 * @returns true for transient failures.
 */
export function isRetryableCode(code: StreamstraightErrorCode): boolean {
  return RETRYABLE.has(code);
}
