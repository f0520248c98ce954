/**
 * `@ss/ai` (browser-safe entry): a `ChatTransport` for the Vercel AI SDK's `useChat` that resumes
 * answers through the Streamstraight relay. No Node imports here; the server half is `@ss/ai/server`.
 */
export { StreamstraightChatTransport } from './transport/streamstraight-chat-transport.js';
export type { StreamstraightChatTransportOptions } from './transport/streamstraight-chat-transport.js';
export type { ActiveStreamGrant } from './transport/active-stream-grant.js';
export { StreamstraightError } from '@ss/core/protocol';
