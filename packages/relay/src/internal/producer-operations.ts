import { type EndReason, type StreamInfo, StreamstraightError, utf8ByteLength } from '@ss/core/protocol';
import type { OpenMode, OpenResult, StreamStore } from '../store/stream-store.js';
import type { ProducerQuotas } from './producer-quotas.js';
import type { RelayMetrics } from './relay-metrics.js';

/** What the producer operations need from the relay. */
export interface ProducerOperationsContext {
  store: StreamStore;
  metrics: RelayMetrics;
  maxChunkBytes: number;
  /** Stored bytes per stream and per API key (the open-stream and rate quotas are per connection: the caller's). */
  quotas: ProducerQuotas;
}

/**
 * A producer's store operations, shared by every producer face of the relay (the Socket.IO
 * session and the HTTP producer): the chunk size check, open, append and end with their byte
 * quotas and metrics. The guarantees (idempotent, gap-free appends; fencing by lease) are the
 * store's. `keyId` is `apiKeyId(apiKey)` of the producer's key.
 */
export interface ProducerOperations {
  /** Throws `CHUNK_TOO_LARGE` for a chunk over `maxChunkBytes`. */
  checkChunkSizes(data: readonly string[]): void;
  /** Opens a stream, takes a new lease, and starts counting its bytes against `keyId`. */
  open(keyId: string, streamId: string, mode: OpenMode, openId?: string): Promise<OpenResult>;
  /** Stores chunks `seq`, `seq + 1`, … (a resent part is dropped; a gap is `SEQ_GAP`; past a byte quota `QUOTA_EXCEEDED`). */
  append(keyId: string, streamId: string, lease: number, seq: number, data: readonly string[]): Promise<{ lastSeq: number }>;
  /** Ends a stream after chunk `lastSeq` (checked when given). */
  end(streamId: string, lease: number, reason: EndReason, lastSeq?: number): Promise<StreamInfo>;
}

/**
 * The open mode a producer asks for with its `overwrite` / `resume` flags.
 * @param request - the producer's flags.
 * @returns `overwrite`, `resume` or `create`.
 */
export function openModeOf(request: { overwrite?: boolean; resume?: boolean }): OpenMode {
  return request.overwrite ? 'overwrite' : request.resume ? 'resume' : 'create';
}

/**
 * Builds the {@link ProducerOperations} of one relay.
 * @param context - the store, the metrics and the chunk size limit.
 * @returns the operations.
 */
export function createProducerOperations(context: ProducerOperationsContext): ProducerOperations {
  const { store, metrics, maxChunkBytes, quotas } = context;
  return {
    checkChunkSizes(data) {
      for (const chunk of data) {
        // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
        if (chunk.length * 3 > maxChunkBytes && utf8ByteLength(chunk) > maxChunkBytes) {
          throw new StreamstraightError(
            'CHUNK_TOO_LARGE',
            `A chunk of ${utf8ByteLength(chunk)} bytes is over the relay's limit of ${maxChunkBytes} bytes. Split it into smaller chunks.`,
          );
        }
      }
    },
    async open(keyId, streamId, mode, openId) {
      const result = await store.open(streamId, mode, openId);
      quotas.track(keyId, streamId, result.info.lastSeq, mode === 'create' || mode === 'overwrite');
      return result;
    },
    async append(keyId, streamId, lease, seq, data) {
      const adds = quotas.checkAppend(keyId, streamId, seq, data);
      const startedAt = performance.now();
      const result = await store.append(streamId, lease, seq, data);
      quotas.appended(keyId, streamId, result.lastSeq, adds);
      metrics.appendSeconds.observe((performance.now() - startedAt) / 1000);
      metrics.chunksStored.inc(data.length);
      return result;
    },
    async end(streamId, lease, reason, lastSeq) {
      const info = await store.end(streamId, lease, reason, lastSeq);
      metrics.streamsEnded.inc({ reason });
      return info;
    },
  };
}
