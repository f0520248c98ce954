/**
 * `@ss/client` — read a Streamstraight stream from a relay, in browsers and Node: every chunk
 * exactly once, in order, resuming at the next chunk after any reconnect.
 */
export { streamstraightClient } from './streamstraight-client.js';
export type { ClientTransport, ReaderStatus, ReaderTransport, StreamOptions, StreamReader, StreamstraightClientOptions } from './streamstraight-client.js';
export { StreamstraightError } from '@ss/core/protocol';
export type { EndReason, StreamstraightErrorCode } from '@ss/core/protocol';
