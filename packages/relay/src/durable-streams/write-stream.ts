/** `PUT` (create, or fork) and `POST` (append, close) on a Durable Streams URL. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamMetadata, StreamStore, TailProducer } from '../store/stream-store.js';
import { DEFAULT_CONTENT_TYPE, bodyToChunks, encodingOf, isMediaType, mediaType } from './content-types.js';
import { type ForkRequest, inherit, parseSubOffset } from './fork-source.js';
import { FaceError, closedHeader, header, readBody, send } from './http-io.js';
import { lookUp } from './lifecycle.js';
import { formatOffset } from './offsets.js';
import { FIELD, type StreamView, viewOf } from './stream-config.js';
import { streamIdOfReference } from './stream-paths.js';

/** The write limits (see `DurableStreamsOptions`). */
export interface WriteSettings {
  prefix: string;
  maxAppendBytes: number;
  maxForkChunks: number;
}

const TTL_PATTERN = /^(0|[1-9]\d*)$/;
const STRICT_INTEGER = /^\d+$/;

/** The configuration a PUT asks for, compared with an existing stream for idempotency. */
interface Requested {
  contentType: string | undefined;
  ttlSeconds: number | undefined;
  expiresAt: string | undefined;
  closed: boolean;
  fork: ForkRequest | undefined;
}

function parseCreate(request: IncomingMessage, prefix: string): Requested {
  const ttlText = header(request, 'stream-ttl');
  const expiresAt = header(request, 'stream-expires-at');
  if (ttlText !== undefined && expiresAt !== undefined) {
    throw new FaceError(400, 'BAD_REQUEST', 'Give Stream-TTL or Stream-Expires-At, not both.');
  }
  let ttlSeconds: number | undefined;
  if (ttlText !== undefined) {
    if (!TTL_PATTERN.test(ttlText) || !Number.isSafeInteger(Number(ttlText))) {
      throw new FaceError(400, 'BAD_REQUEST', `Stream-TTL ${JSON.stringify(ttlText)} is not a whole number of seconds (digits only, no sign, no leading zeros).`);
    }
    ttlSeconds = Number(ttlText);
  }
  if (expiresAt !== undefined && !Number.isFinite(Date.parse(expiresAt))) {
    throw new FaceError(400, 'BAD_REQUEST', `Stream-Expires-At ${JSON.stringify(expiresAt)} is not an RFC 3339 timestamp.`);
  }
  const forkedFrom = header(request, 'stream-forked-from');
  const forkOffset = header(request, 'stream-fork-offset');
  const subOffset = parseSubOffset(header(request, 'stream-fork-sub-offset'), forkedFrom !== undefined, forkOffset !== undefined);
  const contentTypeText = header(request, 'content-type');
  return {
    contentType: isMediaType(contentTypeText) ? contentTypeText.trim() : undefined,
    ttlSeconds,
    expiresAt,
    closed: closedHeader(request),
    fork: forkedFrom === undefined ? undefined : { sourceId: streamIdOfReference(forkedFrom, prefix), offsetText: forkOffset, subOffset },
  };
}

/** Whether an existing stream was created with what `requested` asks for (PUT is idempotent then). */
function sameConfig(view: StreamView, requested: Requested): boolean {
  const contentType = requested.contentType ?? (requested.fork ? view.contentType : DEFAULT_CONTENT_TYPE);
  return (
    mediaType(contentType) === mediaType(view.contentType) &&
    requested.ttlSeconds === view.ttlSeconds &&
    requested.expiresAt === view.expiresAt &&
    requested.closed === view.closed &&
    requested.fork?.sourceId === view.forkedFrom &&
    (requested.fork?.offsetText === undefined || requested.fork.offsetText === view.forkOffset) &&
    (requested.fork?.subOffset ?? 0) === view.forkSubOffset
  );
}

function createdHeaders(view: StreamView): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': view.contentType, 'stream-next-offset': formatOffset(view.tail) };
  if (view.closed) headers['stream-closed'] = 'true';
  return headers;
}

function conflict(streamId: string): FaceError {
  return new FaceError(409, 'STREAM_EXISTS', `Stream ${JSON.stringify(streamId)} already exists with another configuration (content type, TTL, expiry, closed state or fork).`);
}

/** Serves a PUT. */
export async function createStream(store: StreamStore, settings: WriteSettings, request: IncomingMessage, response: ServerResponse, streamId: string, location: string): Promise<void> {
  const requested = parseCreate(request, settings.prefix);
  const body = await readBody(request, settings.maxAppendBytes);
  const existing = await lookUp(store, streamId);
  if (existing.state === 'gone') {
    throw new FaceError(409, 'STREAM_EXISTS', `Stream ${JSON.stringify(streamId)} was deleted but forks still read it: its path cannot be reused until they are deleted.`);
  }
  if (existing.state === 'live') {
    if (!sameConfig(existing.view, requested)) throw conflict(streamId);
    return send(response, 200, createdHeaders(existing.view));
  }

  const now = Date.now();
  let contentType = requested.contentType ?? DEFAULT_CONTENT_TYPE;
  let ttlSeconds = requested.ttlSeconds;
  let expiresAt = requested.expiresAt;
  let inherited: string[] = [];
  const metadata: StreamMetadata = {};
  let source: StreamView | undefined;
  if (requested.fork) {
    const found = await lookUp(store, requested.fork.sourceId, now);
    if (found.state === 'missing') throw new FaceError(404, 'STREAM_NOT_FOUND', `The source stream ${JSON.stringify(requested.fork.sourceId)} of this fork does not exist.`);
    if (found.state === 'gone') throw new FaceError(409, 'STREAM_EXISTS', `The source stream ${JSON.stringify(requested.fork.sourceId)} was deleted; it cannot be forked.`);
    source = found.view;
    if (requested.contentType !== undefined && mediaType(requested.contentType) !== mediaType(source.contentType)) {
      throw new FaceError(409, 'STREAM_EXISTS', `A fork has its source's content type (${source.contentType}), not ${requested.contentType}.`);
    }
    contentType = requested.contentType ?? source.contentType;
    if (ttlSeconds === undefined && expiresAt === undefined) {
      ttlSeconds = source.ttlSeconds;
      expiresAt = source.expiresAt;
    }
    const inheritance = await inherit(store, source, requested.fork, settings.maxForkChunks);
    inherited = inheritance.chunks;
    metadata[FIELD.forkedFrom] = source.streamId;
    metadata[FIELD.forkOffset] = requested.fork.offsetText ?? inheritance.forkOffset;
    if (requested.fork.subOffset > 0) metadata[FIELD.forkSubOffset] = String(requested.fork.subOffset);
  }
  const chunks = bodyToChunks(body, encodingOf(contentType), true);
  metadata[FIELD.contentType] = contentType;
  metadata[FIELD.instance] = `${now.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  metadata[FIELD.accessedAt] = String(now);
  if (ttlSeconds !== undefined) metadata[FIELD.ttlSeconds] = String(ttlSeconds);
  if (expiresAt !== undefined) metadata[FIELD.expiresAt] = expiresAt;
  const result = await store.create(streamId, {
    metadata,
    data: inherited.length === 0 ? chunks : [...inherited, ...chunks],
    ...(requested.closed ? { end: 'completed' as const } : {}),
  });
  const view = viewOf(result);
  if (!result.created) {
    // Another PUT won the race: answer as if this one came second.
    if (!sameConfig(view, requested)) throw conflict(streamId);
    return send(response, 200, createdHeaders(view));
  }
  if (source) await store.incrementMetadata(source.streamId, FIELD.references, 1);
  send(response, 201, { ...createdHeaders(view), location });
}

/** Parses the idempotent producer headers: all three or none. */
function parseProducer(request: IncomingMessage): TailProducer | undefined {
  const id = header(request, 'producer-id');
  const epoch = header(request, 'producer-epoch');
  const seq = header(request, 'producer-seq');
  if (id === undefined && epoch === undefined && seq === undefined) return undefined;
  if (id === undefined || epoch === undefined || seq === undefined) {
    throw new FaceError(400, 'BAD_REQUEST', 'Producer-Id, Producer-Epoch and Producer-Seq go together: send all three or none.');
  }
  if (id === '') throw new FaceError(400, 'BAD_REQUEST', 'Producer-Id must not be empty.');
  for (const [name, value] of [
    ['Producer-Epoch', epoch],
    ['Producer-Seq', seq],
  ] as const) {
    if (!STRICT_INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new FaceError(400, 'BAD_REQUEST', `${name} ${JSON.stringify(value)} is not a non-negative integer up to 2^53-1.`);
    }
  }
  return { id, epoch: Number(epoch), seq: Number(seq) };
}

function closedConflict(view: StreamView, tail: number): FaceError {
  return new FaceError(409, 'STREAM_ENDED', `Stream ${JSON.stringify(view.streamId)} is closed; nothing can be appended.`, {
    'stream-closed': 'true',
    'stream-next-offset': formatOffset(tail),
  });
}

/** Serves a POST. */
export async function appendToStream(store: StreamStore, settings: WriteSettings, request: IncomingMessage, response: ServerResponse, view: StreamView): Promise<void> {
  const producer = parseProducer(request);
  const close = closedHeader(request);
  const body = await readBody(request, settings.maxAppendBytes);
  if (body.length === 0 && !close) throw new FaceError(400, 'BAD_REQUEST', 'An append needs a body (only a close, with Stream-Closed: true, may be empty).');
  let chunks: string[] = [];
  if (body.length > 0) {
    if (view.closed && !producer) throw closedConflict(view, view.tail);
    const contentType = header(request, 'content-type');
    if (contentType === undefined || contentType.trim() === '') throw new FaceError(400, 'BAD_REQUEST', 'An append needs a Content-Type (the stream\'s own).');
    if (mediaType(contentType) !== mediaType(view.contentType)) {
      throw new FaceError(409, 'BAD_REQUEST', `Content-Type ${contentType} does not match the stream's ${view.contentType}.`);
    }
    chunks = bodyToChunks(body, view.encoding, false);
  }
  const writerSeq = header(request, 'stream-seq');
  const result = await store.appendAtTail(view.streamId, {
    data: chunks,
    ...(close ? { end: 'completed' as const } : {}),
    ...(writerSeq !== undefined && writerSeq !== '' ? { writerSeq } : {}),
    ...(producer ? { producer } : {}),
    ...(view.ttlSeconds !== undefined ? { metadata: { [FIELD.accessedAt]: String(Date.now()) } } : {}),
  });
  const tail = result.info.lastSeq + 1;
  const headers: Record<string, string> = { 'stream-next-offset': formatOffset(tail) };
  if (result.info.status === 'ended') headers['stream-closed'] = 'true';
  switch (result.status) {
    case 'appended':
      if (producer) {
        headers['producer-epoch'] = String(producer.epoch);
        headers['producer-seq'] = String(producer.seq);
      }
      return send(response, producer && body.length > 0 ? 200 : 204, headers);
    case 'duplicate':
      headers['producer-epoch'] = String(producer?.epoch ?? 0);
      headers['producer-seq'] = String(result.producerSeq);
      return send(response, 204, headers);
    case 'ended':
      if (close && body.length === 0 && !producer) return send(response, 204, headers);
      throw closedConflict(view, tail);
    case 'stale-epoch':
      throw new FaceError(403, 'FORBIDDEN', `Producer ${JSON.stringify(producer?.id)} epoch ${producer?.epoch} is older than the current ${result.currentEpoch}: a newer instance took over.`, {
        'producer-epoch': String(result.currentEpoch),
      });
    case 'epoch-seq':
      throw new FaceError(400, 'BAD_REQUEST', `A new Producer-Epoch starts at Producer-Seq 0, not ${producer?.seq}.`);
    case 'producer-gap':
      throw new FaceError(409, 'SEQ_GAP', `Producer-Seq ${producer?.seq} skips ahead: the next one expected is ${result.expectedSeq}. Resend from there.`, {
        'producer-expected-seq': String(result.expectedSeq),
        'producer-received-seq': String(producer?.seq),
      });
    case 'writer-seq':
      throw new FaceError(409, 'SEQ_GAP', `Stream-Seq ${JSON.stringify(writerSeq)} is not greater than the last one, ${JSON.stringify(result.lastWriterSeq)}.`);
  }
}
