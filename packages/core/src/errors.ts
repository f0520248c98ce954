/**
 * The one error class of Streamstraight self-hosted. Every failure a user can see — in the
 * producer, the relay, the reader or an adapter — is a `StreamstraightError` with a `code`.
 */

/** Every error code, with the HTTP status it maps to. One table, used by the relay and adapters. */
export const ERROR_HTTP_STATUS = {
  BAD_REQUEST: 400,
  INVALID_STREAM_ID: 400,
  UNKNOWN_EVENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  STREAM_NOT_FOUND: 404,
  STREAM_EXISTS: 409,
  STREAM_ENDED: 409,
  SEQ_GAP: 409,
  LEASE_LOST: 409,
  CHUNK_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  STREAM_CANCELLED: 499,
  INTERNAL: 500,
  STREAM_CORRUPT: 500,
  PRODUCER_ERROR: 502,
  RELAY_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  CLOSED: 503,
  SLOW_READER: 503,
  TIMEOUT: 504,
} as const;

/** A machine-readable error code. Branch on this, never on the message. */
export type StreamstraightErrorCode = keyof typeof ERROR_HTTP_STATUS;

const MARKER = Symbol.for('streamstraight.error');

/** Options of {@link StreamstraightError}. */
export interface StreamstraightErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** For retryable errors: how long the caller should wait before trying again. */
  retryInMs?: number;
  /** For `QUOTA_EXCEEDED`: which quota was hit and its limit. */
  quota?: QuotaDetail;
}

/** Which quota a `QUOTA_EXCEEDED` hit: its option name (e.g. `maxOpenStreamsPerKey`) and its limit. */
export interface QuotaDetail {
  name: string;
  limit: number;
}

/**
 * An error with a machine-readable `code` and a message that says what to do.
 *
 * @example
 * ```ts
 * try { await server.stream(source) } catch (error) {
 *   if (StreamstraightError.isInstance(error) && error.code === 'UNAUTHORIZED') rotateKey()
 * }
 * ```
 */
export class StreamstraightError extends Error {
  /** The error code; see {@link ERROR_HTTP_STATUS}. */
  readonly code: StreamstraightErrorCode;
  /** For retryable errors, a hint of how long to wait. */
  readonly retryInMs: number | undefined;
  /** For `QUOTA_EXCEEDED`: the quota that was hit and its limit. */
  readonly quota: QuotaDetail | undefined;

  /**
   * @param code - the error code.
   * @param message - what went wrong and what to do about it.
   * @param options - `cause` and `retryInMs`.
   */
  constructor(code: StreamstraightErrorCode, message: string, options: StreamstraightErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamstraightError';
    this.code = code;
    this.retryInMs = options.retryInMs;
    this.quota = options.quota;
    // A registry-wide symbol, not `instanceof`: works across two installed copies of this package.
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** The HTTP status that matches {@link code}. */
  get status(): number {
    return ERROR_HTTP_STATUS[this.code] ?? 500;
  }

  /**
   * True for any `StreamstraightError`, even one made by another installed copy of this package.
   * @param value - anything.
   * @returns whether `value` is a `StreamstraightError`.
   */
  static isInstance(value: unknown): value is StreamstraightError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /**
   * Wraps anything thrown into a `StreamstraightError` (returned as is when it already is one).
   * @param value - what was thrown.
   * @param code - the code to use when `value` is not already a `StreamstraightError`.
   * @returns a `StreamstraightError`.
   */
  static from(value: unknown, code: StreamstraightErrorCode = 'INTERNAL'): StreamstraightError {
    if (StreamstraightError.isInstance(value)) return value;
    const message = value instanceof Error ? value.message : String(value);
    return new StreamstraightError(code, message, { cause: value });
  }

  /** The wire form sent in `stream:error` events and error acks. */
  toJSON(): ErrorPayload {
    const payload: ErrorPayload = { code: this.code, message: this.message };
    if (this.retryInMs !== undefined) payload.retryInMs = this.retryInMs;
    if (this.quota !== undefined) payload.quota = { name: this.quota.name, limit: this.quota.limit };
    return payload;
  }
}

/** An error as it travels on the wire. */
export interface ErrorPayload {
  code: StreamstraightErrorCode;
  message: string;
  retryInMs?: number;
  /** For `QUOTA_EXCEEDED`: which quota and its limit. */
  quota?: QuotaDetail;
}

/** Turns a wire error back into a `StreamstraightError`; unknown codes become `INTERNAL`. */
export function errorFromPayload(payload: unknown): StreamstraightError {
  const record = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const code = typeof record.code === 'string' && record.code in ERROR_HTTP_STATUS ? (record.code as StreamstraightErrorCode) : 'INTERNAL';
  const message = typeof record.message === 'string' ? record.message : 'The relay reported an error without a message.';
  const retryInMs = typeof record.retryInMs === 'number' ? record.retryInMs : undefined;
  const quota = record.quota as Partial<QuotaDetail> | undefined;
  const validQuota = typeof quota === 'object' && quota !== null && typeof quota.name === 'string' && typeof quota.limit === 'number';
  return new StreamstraightError(code, message, validQuota ? { retryInMs, quota: { name: quota.name!, limit: quota.limit! } } : { retryInMs });
}
