/**
 * The wire protocol, shared by the producer (`@ss/core`), the relay (`@ss/relay`) and the reader
 * (`@ss/client`): Socket.IO v4, default namespace, path `/socket.io`.
 *
 * - `stream-v1` is the published Streamstraight protocol (one stream per producer connection,
 *   `producer:chunk` / `producer:ack` / `producer:end`). The relay speaks it unchanged.
 * - The `mux` extension (producer sends `extensions: ['mux']` in its handshake) multiplexes many
 *   streams over one connection, batches chunks per frame with one ack, and resumes an open stream
 *   at its next seq after a reconnect. The relay greets a multiplexing producer with `mux:hello`,
 *   naming optional features; with `batch`, frames of several streams may travel in one
 *   `mux:batch` event with one ack. Consumers always speak the extended consumer protocol.
 *
 * This module has no dependency: browsers import it through `@ss/core/protocol`.
 */
import { type ErrorPayload, StreamstraightError } from './errors.js';

export { ERROR_HTTP_STATUS, StreamstraightError, errorFromPayload } from './errors.js';
export type { ErrorPayload, QuotaDetail, StreamstraightErrorCode, StreamstraightErrorOptions } from './errors.js';

/** The protocol version both sides announce in the handshake. */
export const PROTOCOL_VERSION = 'stream-v1';
/** The extension a producer asks for to multiplex streams over one connection. */
export const MUX_EXTENSION = 'mux';
/** The Socket.IO path of the relay. */
export const SOCKET_PATH = '/socket.io';
/** The default relay URL when neither `baseUrl` nor `STREAMSTRAIGHT_API_BASE_URL` is set. */
export const DEFAULT_BASE_URL = 'http://localhost:8787';
/** The environment variable that names the relay URL (the same as the hosted SDKs'). */
export const BASE_URL_ENV = 'STREAMSTRAIGHT_API_BASE_URL';
/** Default largest encoded chunk the relay accepts, in UTF-8 bytes. */
export const DEFAULT_MAX_CHUNK_BYTES = 256 * 1024;
/** Largest number of chunks in one `mux:chunks` frame. */
export const MAX_CHUNKS_PER_FRAME = 1024;
/** Largest number of frames in one `mux:batch`. */
export const MAX_FRAMES_PER_BATCH = 1024;
/** The feature a relay announces in `mux:hello` when it accepts `mux:batch`. */
export const MUX_BATCH_FEATURE = 'batch';

/** Why a stream ended. The first six are stream-v1's; `cancelled` is a reader-initiated cancel. */
export type EndReason =
  | 'completed'
  | 'producer-error'
  | 'producer-disconnected'
  | 'inactivity-timeout'
  | 'not-found'
  | 'ignore-ended'
  | 'cancelled';

/** Every valid {@link EndReason}. */
export const END_REASONS: readonly EndReason[] = [
  'completed',
  'producer-error',
  'producer-disconnected',
  'inactivity-timeout',
  'not-found',
  'ignore-ended',
  'cancelled',
];

const STREAM_ID_PATTERN = /^[A-Za-z0-9._:~-]{1,256}$/;

/**
 * Whether `value` is a valid stream id: 1–256 characters of `A-Z a-z 0-9 . _ : ~ -`.
 * @param value - anything.
 * @returns true when `value` can name a stream.
 */
export function isValidStreamId(value: unknown): value is string {
  return typeof value === 'string' && STREAM_ID_PATTERN.test(value);
}

/**
 * A short, safe description of an untrusted value for an error message: a string is quoted and
 * cut at 64 characters; an array or object is named, never serialized (a deeply nested value would
 * overflow the stack of `JSON.stringify`, and a large one would flood the message).
 * @param value - anything a client sent.
 * @returns at most ~70 characters.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== 'object') return String(value);
  return 'an object';
}

/**
 * Throws `INVALID_STREAM_ID` unless `value` is a valid stream id.
 * @param value - the candidate stream id.
 * @returns the stream id.
 */
export function assertStreamId(value: unknown): string {
  if (isValidStreamId(value)) return value;
  throw new StreamstraightError(
    'INVALID_STREAM_ID',
    `Invalid stream id ${describeValue(value)}: use 1-256 characters of A-Z a-z 0-9 . _ : ~ -`,
  );
}

/** A stream's state as the relay reports it. `lastSeq` is -1 while the stream has no chunk. */
export interface StreamInfo {
  streamId: string;
  status: 'open' | 'ended';
  lastSeq: number;
  endReason?: EndReason;
}

/** The answer to an acknowledged request: a value, or a wire error. */
export type AckResult<T> = ({ ok: true } & T) | { ok: false; error: ErrorPayload };

// ---------------------------------------------------------------------------------------------
// Handshake (`socket.handshake.auth`). Producers also send `Authorization: Bearer <api key>`.

/** Handshake of a stream-v1 producer: one stream per connection. */
export interface ProducerV1Auth {
  role: 'producer';
  version: typeof PROTOCOL_VERSION;
  streamId: string;
  sdkVersion?: string;
  overwriteExistingStream?: boolean;
}

/** Handshake of a multiplexing producer: streams are opened with `mux:open`. */
export interface ProducerMuxAuth {
  role: 'producer';
  version: typeof PROTOCOL_VERSION;
  extensions: [typeof MUX_EXTENSION];
  sdkVersion?: string;
}

/** Handshake of a reader: a client token (JWT) scoped to the streams it may read. */
export interface ConsumerAuth {
  role: 'consumer';
  token: string;
  version?: typeof PROTOCOL_VERSION;
  /**
   * Start this subscription with the connection (saves a round trip on every connect and
   * reconnect). The reader still sends the same `consumer:subscribe` once connected: a relay that
   * started it already only answers it; an older relay, which ignores this field, serves it then.
   */
  subscribe?: ConsumerSubscribe;
}

// ---------------------------------------------------------------------------------------------
// Payloads

/** stream-v1 `producer:chunk`. */
export interface ProducerChunkV1 {
  seq: number;
  data: string;
}
/** stream-v1 `producer:end`. */
export interface ProducerEndV1 {
  reason: EndReason;
  lastSeq: number;
  redisId?: string;
}
/** stream-v1 `producer:ack`. */
export interface ProducerAckV1 {
  seq: number;
  redisId: string;
}
/** stream-v1 ack of `producer:end`. */
export type ProducerEndAckV1 = { success: true; endRedisId: string } | { success: false; error: ErrorPayload };
/** stream-v1 `stream:info`. */
export interface StreamInfoV1 {
  streamId: string;
  deploymentId: string;
  lastSeq?: number;
  ended: boolean;
}
/** `stream:error`: on a producer or reader connection. `streamId` is set on multiplexed connections. */
export interface StreamErrorPayload extends ErrorPayload {
  streamId?: string;
}

/** `mux:open`: start (or, with `resume`, re-attach to) a stream on a multiplexed connection. */
export interface MuxOpen {
  streamId: string;
  /** Replace an existing stream with the same id (stream-v1's `overwriteExistingStream`). */
  overwrite?: boolean;
  /** Re-attach to an open stream after a reconnect instead of refusing it as `STREAM_EXISTS`. */
  resume?: boolean;
  /**
   * The producer's own random id for this stream, the same in every open of it. The relay keeps
   * it with the stream; a `resume` carrying another one (or one for a stream opened without one)
   * is refused with `STREAM_EXISTS`. So a producer whose first open was lost with its connection,
   * and which therefore resumes, never attaches to an older stream that had the same id.
   */
  openId?: string;
}
/** Answer to `mux:open`: where the stream stands, so a resuming producer resends from `lastSeq + 1`. */
export type MuxOpenAck = AckResult<{ info: StreamInfo }>;
/** `mux:chunks`: consecutive chunks `seq`, `seq + 1`, … of one stream, acknowledged together. */
export interface MuxChunks {
  streamId: string;
  seq: number;
  data: string[];
}
/** Answer to `mux:chunks`: the highest seq the store holds. */
export type MuxChunksAck = AckResult<{ lastSeq: number }>;
/**
 * `mux:batch`: `mux:chunks` frames of several streams in one event, acknowledged together. Each
 * frame is handled exactly as if it had come alone, in order; a frame that is refused does not
 * affect the others. Send it only to a relay whose `mux:hello` listed {@link MUX_BATCH_FEATURE}.
 */
export interface MuxBatch {
  frames: MuxChunks[];
}
/** Answer to `mux:batch`: one answer per frame, in the frames' order, each what `mux:chunks` would have answered. */
export type MuxBatchAck = AckResult<{ results: MuxChunksAck[] }>;
/** `mux:hello`: the relay's first event on a multiplexed connection, naming the optional features it accepts. */
export interface MuxHello {
  features: string[];
}
/** `mux:end`: end a stream after chunk `lastSeq`. */
export interface MuxEnd {
  streamId: string;
  reason: EndReason;
  lastSeq: number;
}
/** Answer to `mux:end`. */
export type MuxEndAck = AckResult<{ info: StreamInfo }>;
/** `mux:cancel`: a reader asked to stop the stream; the producer aborts its source. */
export interface MuxCancel {
  streamId: string;
  reason: string;
}

/** `consumer:subscribe`: read `streamId` from `fromSeq` (default 0): stored chunks, then live ones. */
export interface ConsumerSubscribe {
  streamId: string;
  fromSeq?: number;
}
/** Answer to `consumer:subscribe`. */
export type ConsumerSubscribeAck = AckResult<{ info: StreamInfo }>;
/** `consumer:cancel`: ask the producer to stop (needs the cancel scope in the token). */
export interface ConsumerCancel {
  streamId: string;
  reason?: string;
}
/** `stream:chunks`: consecutive chunks of one stream for a reader. */
export interface StreamChunks {
  streamId: string;
  seq: number;
  data: string[];
}
/** `stream:end`: the stream ended; no chunk follows. */
export interface StreamEnd {
  streamId: string;
  reason: EndReason;
  lastSeq: number;
}

// ---------------------------------------------------------------------------------------------
// Typed Socket.IO event maps (server-side view: what the relay listens to and emits).

/** Events a producer emits (both stream-v1 and mux). */
export interface ProducerToRelayEvents {
  'producer:chunk': (payload: ProducerChunkV1) => void;
  'producer:end': (payload: ProducerEndV1, ack: (result: ProducerEndAckV1) => void) => void;
  'producer:heartbeat': (payload?: unknown) => void;
  'mux:open': (payload: MuxOpen, ack: (result: MuxOpenAck) => void) => void;
  'mux:chunks': (payload: MuxChunks, ack: (result: MuxChunksAck) => void) => void;
  'mux:end': (payload: MuxEnd, ack: (result: MuxEndAck) => void) => void;
  'mux:batch': (payload: MuxBatch, ack: (result: MuxBatchAck) => void) => void;
}

/** Events the relay emits to a producer. */
export interface RelayToProducerEvents {
  'producer:ack': (payload: ProducerAckV1) => void;
  'stream:info': (payload: StreamInfoV1) => void;
  'stream:error': (payload: StreamErrorPayload) => void;
  'connection:error': (payload: ErrorPayload) => void;
  'mux:cancel': (payload: MuxCancel) => void;
  'mux:hello': (payload: MuxHello) => void;
}

/** Events a reader emits. */
export interface ConsumerToRelayEvents {
  'consumer:subscribe': (payload: ConsumerSubscribe, ack: (result: ConsumerSubscribeAck) => void) => void;
  'consumer:unsubscribe': (payload: { streamId: string }) => void;
  'consumer:cancel': (payload: ConsumerCancel, ack: (result: AckResult<object>) => void) => void;
}

/** Events the relay emits to a reader. */
export interface RelayToConsumerEvents {
  'stream:chunks': (payload: StreamChunks) => void;
  'stream:end': (payload: StreamEnd) => void;
  'stream:error': (payload: StreamErrorPayload) => void;
  'connection:error': (payload: ErrorPayload) => void;
}

// ---------------------------------------------------------------------------------------------
// Validation of untrusted payloads. Each returns the payload typed, or throws BAD_REQUEST.

function badRequest(what: string, expected: string): StreamstraightError {
  return new StreamstraightError('BAD_REQUEST', `Malformed ${what}: expected ${expected}.`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Whether `value` is a valid end reason.
 * @param value - anything.
 * @returns true for one of {@link END_REASONS}.
 */
export function isEndReason(value: unknown): value is EndReason {
  return typeof value === 'string' && (END_REASONS as readonly string[]).includes(value);
}

/** Validates a stream-v1 `producer:chunk`. */
export function parseProducerChunkV1(value: unknown): ProducerChunkV1 {
  if (!isRecord(value) || !isSeq(value.seq) || typeof value.data !== 'string') {
    throw badRequest('producer:chunk', '{ seq: integer >= 0, data: string }');
  }
  return { seq: value.seq, data: value.data };
}

/** Validates a stream-v1 `producer:end`. */
export function parseProducerEndV1(value: unknown): ProducerEndV1 {
  if (!isRecord(value) || !isEndReason(value.reason) || !(isSeq(value.lastSeq) || value.lastSeq === -1)) {
    throw badRequest('producer:end', `{ reason: one of ${END_REASONS.join(', ')}, lastSeq: integer }`);
  }
  return { reason: value.reason, lastSeq: value.lastSeq };
}

/** Validates `mux:open`. */
export function parseMuxOpen(value: unknown): MuxOpen {
  const shape = '{ streamId: string, overwrite?: boolean, resume?: boolean, openId?: string of 1-64 characters }';
  if (!isRecord(value)) throw badRequest('mux:open', shape);
  const { openId } = value;
  if (openId !== undefined && !(typeof openId === 'string' && openId.length > 0 && openId.length <= 64)) throw badRequest('mux:open', shape);
  const open: MuxOpen = { streamId: assertStreamId(value.streamId), overwrite: value.overwrite === true, resume: value.resume === true };
  if (openId !== undefined) open.openId = openId;
  return open;
}

/** Validates `mux:chunks`. */
export function parseMuxChunks(value: unknown): MuxChunks {
  if (
    !isRecord(value) ||
    !isSeq(value.seq) ||
    !Array.isArray(value.data) ||
    value.data.length === 0 ||
    value.data.length > MAX_CHUNKS_PER_FRAME ||
    !value.data.every((item) => typeof item === 'string')
  ) {
    throw badRequest('mux:chunks', `{ streamId: string, seq: integer >= 0, data: 1-${MAX_CHUNKS_PER_FRAME} strings }`);
  }
  return { streamId: assertStreamId(value.streamId), seq: value.seq, data: value.data as string[] };
}

/**
 * Validates the envelope of `mux:batch`. The frames themselves are validated one by one (like
 * `mux:chunks`), so a bad frame gets its own error answer.
 */
export function parseMuxBatch(value: unknown): { frames: unknown[] } {
  if (!isRecord(value) || !Array.isArray(value.frames) || value.frames.length === 0 || value.frames.length > MAX_FRAMES_PER_BATCH) {
    throw badRequest('mux:batch', `{ frames: 1-${MAX_FRAMES_PER_BATCH} mux:chunks frames }`);
  }
  return { frames: value.frames };
}

/** Validates `mux:end`. */
export function parseMuxEnd(value: unknown): MuxEnd {
  if (!isRecord(value) || !isEndReason(value.reason) || !(isSeq(value.lastSeq) || value.lastSeq === -1)) {
    throw badRequest('mux:end', `{ streamId: string, reason: one of ${END_REASONS.join(', ')}, lastSeq: integer >= -1 }`);
  }
  return { streamId: assertStreamId(value.streamId), reason: value.reason, lastSeq: value.lastSeq };
}

/** Validates `consumer:subscribe`. */
export function parseConsumerSubscribe(value: unknown): ConsumerSubscribe {
  if (!isRecord(value) || !(value.fromSeq === undefined || isSeq(value.fromSeq))) {
    throw badRequest('consumer:subscribe', '{ streamId: string, fromSeq?: integer >= 0 }');
  }
  return { streamId: assertStreamId(value.streamId), fromSeq: value.fromSeq ?? 0 };
}

/** Validates `consumer:cancel`. */
export function parseConsumerCancel(value: unknown): ConsumerCancel {
  if (!isRecord(value) || !(value.reason === undefined || typeof value.reason === 'string')) {
    throw badRequest('consumer:cancel', '{ streamId: string, reason?: string }');
  }
  return { streamId: assertStreamId(value.streamId), reason: value.reason ?? 'cancelled by a reader' };
}

/**
 * UTF-8 byte length of a string without allocating a buffer.
 * @param text - the string.
 * @returns its size in bytes once encoded as UTF-8.
 */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 2; // a surrogate pair is 4 bytes for 2 UTF-16 units
      index++;
    } else bytes += 2;
  }
  return bytes;
}
