/**
 * Durable Streams URLs ↔ relay stream ids. The part of the path after the prefix names the stream;
 * its `/` become `:` (stream ids have no `/`): `/ds/chat-42` is stream `chat-42`, and
 * `/ds/v1/stream/orders` is stream `v1:stream:orders` (so is `/ds/v1:stream:orders`).
 */
import { StreamstraightError, assertStreamId } from '@ss/core/protocol';

/** Path segments reserved by the protocol for its control APIs (subscriptions). */
export const RESERVED_SEGMENT = '__ds';

/**
 * The stream id a stream path names.
 * @param path - the path after the prefix, with or without a leading `/`, still percent-encoded.
 * @throws `INVALID_STREAM_ID` (400) for an empty segment or a character stream ids do not allow.
 */
export function streamIdOfPath(path: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\/+/, ''));
  } catch {
    throw new StreamstraightError('INVALID_STREAM_ID', `The stream path ${JSON.stringify(path)} is not valid percent-encoding.`);
  }
  const segments = decoded.split('/');
  if (segments.some((segment) => segment === '')) {
    throw new StreamstraightError('INVALID_STREAM_ID', `The stream path ${JSON.stringify(path)} has an empty segment: name a stream, like /ds/chat-42.`);
  }
  return assertStreamId(segments.join(':'));
}

/**
 * The stream id a `Stream-Forked-From` header names: a path relative to the stream root
 * (`/v1/stream/a`), or the full path with the prefix (`/ds/v1/stream/a`).
 */
export function streamIdOfReference(reference: string, prefix: string): string {
  const path = reference.startsWith(`${prefix}/`) ? reference.slice(prefix.length) : reference;
  return streamIdOfPath(path);
}
