import { type EndReason, type StreamInfo, StreamstraightError } from '@ss/core/protocol';
import {
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  type OpenMode,
  type OpenResult,
  type RetentionOptions,
  type StoreEvent,
  type StreamMetadata,
  type StreamStore,
  type TailAppendResult,
} from './stream-store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions extends RetentionOptions {
  /** How often expired and inactive streams are swept. Default: a quarter of the shortest limit, at most 5 s. */
  sweepIntervalMs?: number;
  /**
   * Bytes (UTF-16 units of chunk data: bytes for ASCII) the store may hold. Once it holds that
   * much, opening a new stream (or replacing one) is refused with `QUOTA_EXCEEDED`; streams
   * already open keep being written and nothing is evicted before its time. Default: no bound.
   */
  maxBytes?: number;
  /** Clock, for tests. */
  now?: () => number;
}

interface StreamRecord {
  chunks: string[];
  /** Sum of the chunks' lengths. */
  bytes: number;
  status: 'open' | 'ended';
  endReason: EndReason | undefined;
  lease: number;
  lastWriteAt: number;
  /** The producer's id for the stream (`MuxOpen.openId`), when it gave one. */
  openId: string | undefined;
  /** Kept for callers (`create`, `setMetadata`). */
  metadata: StreamMetadata;
  /** `appendAtTail`'s last writer sequence. */
  writerSeq: string | undefined;
  /** `appendAtTail`'s idempotent producers: id → last accepted epoch and seq. */
  producers: Map<string, { epoch: number; seq: number }> | undefined;
  /** The producer tuple `id epoch seq` whose append ended the stream, if one did. */
  endedBy: string | undefined;
}

type Listener = (event: StoreEvent) => void;

/**
 * The embedded default store: one process, nothing to install. Streams live in a `Map`; one
 * interval sweeps expired and inactive ones (no timer per stream keeps an idle stream small).
 *
 * @example
 * ```ts
 * const relay = createRelay({ apiKeys: [key], store: memoryStore({ ttlMs: 3_600_000 }) })
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): StreamStore {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const inactivityTimeoutMs = options.inactivityTimeoutMs ?? DEFAULT_INACTIVITY_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const streams = new Map<string, StreamRecord>();
  const listeners = new Map<string, Set<Listener>>();
  let leases = 0;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  /** Bytes of every stream held. */
  let totalBytes = 0;
  const drop = (streamId: string, record: StreamRecord) => {
    streams.delete(streamId);
    totalBytes -= record.bytes;
  };

  const infoOf = (streamId: string, record: StreamRecord): StreamInfo =>
    record.endReason === undefined
      ? { streamId, status: record.status, lastSeq: record.chunks.length - 1 }
      : { streamId, status: record.status, lastSeq: record.chunks.length - 1, endReason: record.endReason };

  const emit = (streamId: string, event: StoreEvent) => {
    const set = listeners.get(streamId);
    if (set) for (const listener of set) listener(event);
  };

  const requireRecord = (streamId: string): StreamRecord => {
    const record = streams.get(streamId);
    if (!record) throw new StreamstraightError('STREAM_NOT_FOUND', `Stream "${streamId}" does not exist (or expired). Open it before writing.`);
    return record;
  };

  const requireWritable = (streamId: string, lease: number | null): StreamRecord => {
    const record = requireRecord(streamId);
    if (lease !== null && lease !== record.lease) {
      throw new StreamstraightError('LEASE_LOST', `Another producer took over stream "${streamId}"; this one must stop writing.`);
    }
    return record;
  };

  const endRecord = (streamId: string, record: StreamRecord, reason: EndReason): StreamInfo => {
    record.status = 'ended';
    record.endReason = reason;
    record.lastWriteAt = now();
    const info = infoOf(streamId, record);
    emit(streamId, { type: 'end', streamId, info });
    return info;
  };

  /** Refuses a new stream once the store holds `maxBytes`. */
  const requireRoom = () => {
    if (totalBytes >= maxBytes) {
      throw new StreamstraightError(
        'QUOTA_EXCEEDED',
        `The relay's memory store is full (${totalBytes} bytes held, maxMemoryStoreBytes = ${maxBytes}): no new stream until stored ones expire. Streams already open go on.`,
        { quota: { name: 'maxMemoryStoreBytes', limit: maxBytes } },
      );
    }
  };

  const newRecord = (openId: string | undefined): StreamRecord => ({
    chunks: [],
    bytes: 0,
    status: 'open',
    endReason: undefined,
    lease: 0,
    lastWriteAt: now(),
    openId,
    metadata: {},
    writerSeq: undefined,
    producers: undefined,
    endedBy: undefined,
  });

  /** Stores `data` after the record's chunks and tells the listeners. */
  const pushChunks = (streamId: string, record: StreamRecord, data: readonly string[]) => {
    if (data.length === 0) return;
    const seq = record.chunks.length;
    for (const chunk of data) {
      record.chunks.push(chunk);
      record.bytes += chunk.length;
      totalBytes += chunk.length;
    }
    record.lastWriteAt = now();
    emit(streamId, { type: 'chunks', streamId, seq, data });
  };

  const sweep = () => {
    const time = now();
    for (const [streamId, record] of streams) {
      if (time - record.lastWriteAt >= ttlMs) drop(streamId, record);
      else if (record.status === 'open' && time - record.lastWriteAt >= inactivityTimeoutMs) endRecord(streamId, record, 'inactivity-timeout');
    }
  };
  const sweepIntervalMs = options.sweepIntervalMs ?? Math.max(10, Math.min(5000, Math.floor(Math.min(ttlMs, inactivityTimeoutMs) / 4)));
  const timer = setInterval(sweep, sweepIntervalMs);
  timer.unref();

  return {
    async open(streamId: string, mode: OpenMode, openId?: string): Promise<OpenResult> {
      let record = streams.get(streamId);
      if (record && (mode === 'create' || (mode === 'resume' && openId !== undefined && record.openId !== openId))) {
        throw new StreamstraightError('STREAM_EXISTS', `Stream "${streamId}" already exists. Pick a new id, or pass overwriteExistingStream: true to replace it.`);
      }
      if (record && mode === 'attach' && record.status === 'ended') {
        throw new StreamstraightError('STREAM_ENDED', `Stream "${streamId}" has ended. Pick a new id, or pass overwriteExistingStream: true to replace it.`);
      }
      if (!record || mode === 'overwrite') {
        requireRoom();
        if (record) drop(streamId, record);
        record = newRecord(openId);
        streams.set(streamId, record);
      }
      record.lease = ++leases;
      record.lastWriteAt = now();
      return { info: infoOf(streamId, record), lease: record.lease };
    },

    async append(streamId, lease, seq, data) {
      const record = requireWritable(streamId, lease);
      const next = record.chunks.length;
      if (record.status === 'ended') {
        if (seq + data.length <= next) return { lastSeq: next - 1 }; // a resend of stored chunks after the end
        throw new StreamstraightError('STREAM_ENDED', `Stream "${streamId}" has ended; no chunk can follow its end.`);
      }
      if (seq > next) {
        throw new StreamstraightError('SEQ_GAP', `Chunk ${seq} of stream "${streamId}" skips ahead: the relay holds up to ${next - 1}. Resend from ${next}.`);
      }
      const skip = next - seq;
      const bytesBefore = record.bytes;
      if (skip < data.length) {
        const fresh = skip === 0 ? data : data.slice(skip);
        for (const chunk of fresh) {
          record.chunks.push(chunk);
          record.bytes += chunk.length;
        }
        totalBytes += record.bytes - bytesBefore;
        record.lastWriteAt = now();
        emit(streamId, { type: 'chunks', streamId, seq: next, data: fresh });
      }
      return { lastSeq: record.chunks.length - 1 };
    },

    async end(streamId, lease, reason, expectedLastSeq) {
      const record = requireWritable(streamId, lease);
      if (record.status === 'ended') {
        if (record.endReason === reason) return infoOf(streamId, record);
        throw new StreamstraightError('STREAM_ENDED', `Stream "${streamId}" already ended (${record.endReason}).`);
      }
      const lastSeq = record.chunks.length - 1;
      if (expectedLastSeq !== undefined && expectedLastSeq !== lastSeq) {
        throw new StreamstraightError('SEQ_GAP', `End of stream "${streamId}" claims last chunk ${expectedLastSeq}, but the relay holds up to ${lastSeq}. Send the missing chunks first.`);
      }
      return endRecord(streamId, record, reason);
    },

    async info(streamId) {
      const record = streams.get(streamId);
      return record ? infoOf(streamId, record) : undefined;
    },

    async read(streamId, fromSeq, limit) {
      const record = streams.get(streamId);
      if (!record || fromSeq >= record.chunks.length) return [];
      return record.chunks.slice(fromSeq, fromSeq + limit);
    },

    subscribe(streamId, listener) {
      let set = listeners.get(streamId);
      if (!set) {
        set = new Set();
        listeners.set(streamId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(streamId) === set) listeners.delete(streamId);
      };
    },

    async create(streamId, request) {
      const existing = streams.get(streamId);
      if (existing) return { created: false, info: infoOf(streamId, existing), metadata: { ...existing.metadata } };
      requireRoom();
      const record = newRecord(undefined);
      record.metadata = { ...request.metadata };
      streams.set(streamId, record);
      pushChunks(streamId, record, request.data ?? []);
      if (request.end !== undefined) endRecord(streamId, record, request.end);
      return { created: true, info: infoOf(streamId, record), metadata: { ...record.metadata } };
    },

    async describe(streamId) {
      const record = streams.get(streamId);
      return record ? { info: infoOf(streamId, record), metadata: { ...record.metadata } } : undefined;
    },

    async setMetadata(streamId, fields) {
      const record = streams.get(streamId);
      if (!record) return false;
      for (const [field, value] of Object.entries(fields)) {
        if (value === null) delete record.metadata[field];
        else record.metadata[field] = value;
      }
      return true;
    },

    async incrementMetadata(streamId, field, by) {
      const record = streams.get(streamId);
      if (!record) return undefined;
      const value = (Number.parseInt(record.metadata[field] ?? '0', 10) || 0) + by;
      record.metadata[field] = String(value);
      return value;
    },

    async appendAtTail(streamId, request): Promise<TailAppendResult> {
      const record = requireRecord(streamId);
      if (request.metadata) Object.assign(record.metadata, request.metadata);
      const { producer } = request;
      const info = () => infoOf(streamId, record);
      if (record.status === 'ended') {
        if (producer && record.endedBy === `${producer.id} ${producer.epoch} ${producer.seq}`) {
          return { status: 'duplicate', info: info(), producerSeq: producer.seq };
        }
        return { status: 'ended', info: info() };
      }
      if (producer) {
        const state = record.producers?.get(producer.id);
        if (!state) {
          if (producer.seq !== 0) return { status: 'producer-gap', info: info(), expectedSeq: 0 };
        } else if (producer.epoch < state.epoch) {
          return { status: 'stale-epoch', info: info(), currentEpoch: state.epoch };
        } else if (producer.epoch > state.epoch) {
          if (producer.seq !== 0) return { status: 'epoch-seq', info: info() };
        } else if (producer.seq <= state.seq) {
          return { status: 'duplicate', info: info(), producerSeq: state.seq };
        } else if (producer.seq > state.seq + 1) {
          return { status: 'producer-gap', info: info(), expectedSeq: state.seq + 1 };
        }
      }
      if (request.writerSeq !== undefined && record.writerSeq !== undefined && request.writerSeq <= record.writerSeq) {
        return { status: 'writer-seq', info: info(), lastWriterSeq: record.writerSeq };
      }
      const firstSeq = record.chunks.length;
      record.lease = 0; // no producer lease is 0: a producer that held the stream gets LEASE_LOST
      pushChunks(streamId, record, request.data);
      record.lastWriteAt = now();
      if (producer) {
        record.producers ??= new Map();
        record.producers.set(producer.id, { epoch: producer.epoch, seq: producer.seq });
      }
      if (request.writerSeq !== undefined) record.writerSeq = request.writerSeq;
      if (request.end !== undefined) {
        record.endedBy = producer ? `${producer.id} ${producer.epoch} ${producer.seq}` : undefined;
        endRecord(streamId, record, request.end);
      }
      return { status: 'appended', info: info(), firstSeq };
    },

    async delete(streamId) {
      const record = streams.get(streamId);
      if (!record) return false;
      drop(streamId, record);
      return true;
    },

    async health() {
      return { status: 'ok', store: 'memory', detail: `${streams.size} streams, ${totalBytes} bytes` };
    },

    async close() {
      clearInterval(timer);
    },
  };
}
