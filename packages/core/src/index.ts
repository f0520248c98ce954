/**
 * `@ss/core`: the framework-free core of Streamstraight self-hosted. Named exports only.
 */

// Client tokens (readers' JWTs)
export {
  CLIENT_TOKEN_ALGORITHM,
  CLIENT_TOKEN_AUDIENCE,
  CLIENT_TOKEN_ISSUER,
  ALL_STREAMS,
  DEFAULT_CLIENT_TOKEN_EXPIRES_IN,
  MAX_CLIENT_TOKEN_LIFETIME_SECONDS,
  MAX_CLIENT_TOKEN_STREAMS,
  canCancelStream,
  canReadStream,
  clientTokenKeyId,
  fetchClientToken,
  mintClientToken,
  verifyClientToken,
} from './client-token.js';
export type {
  ClientTokenClaims,
  FetchClientTokenOptions,
  MintClientTokenOptions,
  VerifyClientTokenOptions,
} from './client-token.js';

// Errors (every failure is a StreamstraightError with a code)
export { ERROR_HTTP_STATUS, StreamstraightError, errorFromPayload } from './errors.js';
export type { ErrorPayload, QuotaDetail, StreamstraightErrorCode, StreamstraightErrorOptions } from './errors.js';

// Producer (app servers push chunks to the relay)
export {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_WINDOW_SIZE,
  StreamstraightServer,
  streamstraightServer,
} from './producer/streamstraight-server.js';
export type { StreamOptions, StreamstraightServerOptions } from './producer/streamstraight-server.js';
export { StreamWriter } from './producer/stream-writer.js';
export { HttpStreamWriter, HttpStreamstraightServer } from './http-producer/http-streamstraight-server.js';
export type { HttpStreamOptions, HttpStreamstraightServerOptions } from './http-producer/http-streamstraight-server.js';
export type { ChunkEncoder } from './producer/producer-stream.js';
export type { StreamSource } from './producer/source.js';
export { IDLE_CLOSE_MS } from './producer/connection-pool.js';

// Tee (one source → the HTTP response and the relay; what every framework adapter wraps)
export {
  DEFAULT_RELAY_BUFFER_BYTES,
  DEFAULT_RELAY_BUFFER_CHUNKS,
  DEFAULT_RESPONSE_BUFFER_BYTES,
  STREAM_ID_HEADER,
  teeStream,
} from './tee/tee-stream.js';
export type { TeeOptions, TeeResult, TeeStream } from './tee/tee-stream.js';
export type { BodyEnd, BodyFormat, BodyFormatName } from './tee/body-format.js';
export type { ResponseOutcome } from './tee/response-branch.js';
export type { TeeSource, TextStreamResult } from './tee/tee-source.js';

// Token endpoint (every adapter's tokenHandler)
export { createTokenHandler } from './token-handler.js';
export type { TokenHandlerOptions } from './token-handler.js';

// Active-stream endpoint (every adapter's activeStreamHandler: which stream to resume, and a token for it)
export { ACTIVE_STREAM_QUERY, createActiveStreamHandler } from './active-stream-handler.js';
export type { ActiveStreamGrant, ActiveStreamHandlerOptions } from './active-stream-handler.js';

// Protocol names apps commonly need (the whole protocol is at `@ss/core/protocol`)
export { DEFAULT_BASE_URL, END_REASONS, assertStreamId, isValidStreamId } from './protocol.js';
export type { EndReason, StreamInfo } from './protocol.js';
