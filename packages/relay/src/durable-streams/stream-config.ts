/**
 * What the Durable Streams face keeps beside a relay stream (store metadata, fields `ds.*`), and
 * how it reads it back: content type, TTL or absolute expiry, fork lineage, fork references,
 * soft deletion.
 */
import type { StreamDescription, StreamMetadata } from '../store/stream-store.js';
import { type ChunkEncoding, encodingOf } from './content-types.js';

export const FIELD = {
  contentType: 'ds.contentType',
  ttlSeconds: 'ds.ttl',
  expiresAt: 'ds.expiresAt',
  accessedAt: 'ds.accessedAt',
  instance: 'ds.instance',
  forkedFrom: 'ds.forkedFrom',
  forkOffset: 'ds.forkOffset',
  forkSubOffset: 'ds.forkSubOffset',
  references: 'ds.refs',
  softDeleted: 'ds.softDeleted',
} as const;

/** A stream as the Durable Streams face sees it. */
export interface StreamView {
  streamId: string;
  /** The stream's content type; `application/json` for a stream a Socket.IO producer wrote. */
  contentType: string;
  encoding: ChunkEncoding;
  /** True for a stream not created through this face (its chunks may not be JSON). */
  native: boolean;
  /** The tail: the seq the next chunk gets. */
  tail: number;
  closed: boolean;
  ttlSeconds: number | undefined;
  expiresAt: string | undefined;
  accessedAt: number;
  /** Changes when the id is reused; part of the ETag. */
  instance: string;
  forkedFrom: string | undefined;
  forkOffset: string | undefined;
  forkSubOffset: number;
  references: number;
  softDeleted: boolean;
  metadata: StreamMetadata;
}

/** Reads a stream's description as the face's view of it. */
export function viewOf(description: StreamDescription): StreamView {
  const { info, metadata } = description;
  const declared = metadata[FIELD.contentType];
  const contentType = declared ?? 'application/json';
  const ttl = metadata[FIELD.ttlSeconds];
  return {
    streamId: info.streamId,
    contentType,
    encoding: encodingOf(contentType),
    native: declared === undefined,
    tail: info.lastSeq + 1,
    closed: info.status === 'ended',
    ttlSeconds: ttl === undefined ? undefined : Number(ttl),
    expiresAt: metadata[FIELD.expiresAt],
    accessedAt: Number(metadata[FIELD.accessedAt] ?? 0),
    instance: metadata[FIELD.instance] ?? 'native',
    forkedFrom: metadata[FIELD.forkedFrom],
    forkOffset: metadata[FIELD.forkOffset],
    forkSubOffset: Number(metadata[FIELD.forkSubOffset] ?? 0),
    references: Number(metadata[FIELD.references] ?? 0),
    softDeleted: metadata[FIELD.softDeleted] === '1',
    metadata,
  };
}

/** Whether the stream's TTL (idle since the last read or write) or absolute expiry has passed. */
export function isExpired(view: StreamView, now: number): boolean {
  if (view.expiresAt !== undefined) {
    const at = Date.parse(view.expiresAt);
    if (!Number.isFinite(at) || now >= at) return true;
  }
  return view.ttlSeconds !== undefined && now >= view.accessedAt + view.ttlSeconds * 1000;
}
