/**
 * `@ss/core/http`: the producer over the relay's HTTP routes, for runtimes that have `fetch` but
 * cannot keep a Socket.IO connection (Cloudflare Workers, Vercel Edge Functions, Deno Deploy,
 * Netlify Edge, Bun). This entry loads no Socket.IO, no `ws` and no Node built-in: `fetch`,
 * `AbortController`, `crypto.randomUUID` and timers are all it uses.
 */
export {
  HttpStreamWriter,
  HttpStreamstraightServer,
  streamstraightHttpServer as streamstraightServer,
} from './http-producer/http-streamstraight-server.js';
export type { HttpStreamOptions, HttpStreamstraightServerOptions } from './http-producer/http-streamstraight-server.js';
export type { ChunkEncoder } from './producer/producer-stream.js';
export type { StreamSource } from './producer/source.js';
export { StreamstraightError } from './errors.js';
export type { ErrorPayload, StreamstraightErrorCode } from './errors.js';
export type { EndReason, StreamInfo } from './protocol.js';
