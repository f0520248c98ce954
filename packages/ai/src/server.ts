/**
 * `@ss/ai/server`: the server half of the Vercel AI SDK integration. Named exports only.
 */

// resumable-stream, backed by the relay (change one import)
export { createResumableStreamContext } from './resumable-stream/resumable-stream-context.js';
export type { CreateResumableStreamContextOptions, ResumableStreamContext } from './resumable-stream/resumable-stream-context.js';
export { API_KEY_ENV } from './resumable-stream/relay-access.js';
export type { ResumableRelayOptions } from './resumable-stream/relay-access.js';
export { DEFAULT_RESPONSE_BUFFER_CHARACTERS } from './resumable-stream/relay-stream-producer.js';
export type { ProduceOptions } from './resumable-stream/relay-stream-producer.js';

export { StreamstraightError } from '@ss/core';
export type { StreamstraightErrorCode } from '@ss/core';
