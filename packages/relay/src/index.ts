/**
 * `@ss/relay`: the self-hostable relay server and its stores. Named exports only.
 */
export { createRelay } from './relay.js';
export type { Relay, RelayOptions } from './relay.js';
export { LOG_LEVELS, createLogger, formatPrettyLine, isLogLevel, silentLogger } from './logger.js';
export type { CreateLoggerOptions, LogFunction, LogLevel, LogMethod, RelayLogger } from './logger.js';
export { DEFAULT_RELAY_LIMITS } from './relay-limits.js';
export type { RelayLimits } from './relay-limits.js';
export type { DurableStreamsOptions } from './durable-streams/durable-streams-face.js';
export type { HttpFaceOptions } from './http-face/http-face.js';
export { memoryStore } from './store/memory-store.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
export { DEFAULT_REDIS_KEY_PREFIX, redisStore } from './store/redis-store.js';
export type { RedisStoreOptions } from './store/redis-store.js';
export { DEFAULT_INACTIVITY_TIMEOUT_MS, DEFAULT_TTL_MS } from './store/stream-store.js';
export type { OpenMode, OpenResult, RetentionOptions, StoreEvent, StreamStore } from './store/stream-store.js';
export { createApiKeyCheck, bearerToken } from './api-keys.js';
export type { ApiKeyCheck } from './api-keys.js';
export { StreamstraightError } from '@ss/core/protocol';
