import type { EndReason, StreamInfo } from '@ss/core/protocol';

/** How a producer opens a stream. */
export type OpenMode =
  /** A new stream; `STREAM_EXISTS` if the id is taken (open or ended). */
  | 'create'
  /** Re-attach after a reconnect: creates the stream when missing, never fails on an ended one (the caller reads `info`). */
  | 'resume'
  /** stream-v1's default: re-attach to an open stream, create a missing one, `STREAM_ENDED` for an ended one. */
  | 'attach'
  /** Drop whatever has this id and start empty (stream-v1's `overwriteExistingStream`). */
  | 'overwrite';

/** What {@link StreamStore.open} returns. */
export interface OpenResult {
  info: StreamInfo;
  /**
   * The fencing token of this producer's lease. Every open takes a new lease; appends and ends
   * that carry an older one are refused with `LEASE_LOST`, so two producers never write at once.
   */
  lease: number;
}

/** What a store tells its subscribers, after the data is stored. */
export type StoreEvent =
  | { type: 'chunks'; streamId: string; seq: number; data: readonly string[] }
  | { type: 'end'; streamId: string; info: StreamInfo };

/** Timing policy shared by every store. */
export interface RetentionOptions {
  /** A stream and its chunks live at least this long after their last write. Default 60 minutes. */
  ttlMs?: number;
  /** An open stream with no write for this long is ended with `inactivity-timeout`. Default 10 minutes. */
  inactivityTimeoutMs?: number;
}

export const DEFAULT_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_INACTIVITY_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Where streams live. The relay speaks only this interface; `memoryStore()` and the Redis store
 * implement it and pass the same contract suite (`stream-store.contract.ts`).
 *
 * Every failure is a `StreamstraightError`: `STREAM_EXISTS`, `STREAM_ENDED`, `STREAM_NOT_FOUND`,
 * `SEQ_GAP`, `LEASE_LOST`, `STORE_UNAVAILABLE`.
 */
export interface StreamStore {
  /**
   * Opens a stream for writing and takes the producer lease. `openId` is the producer's own id for
   * the stream (see `MuxOpen.openId`): kept when the open creates or replaces the stream; a
   * `resume` with an `openId` other than the kept one (or with one, for a stream kept without) is
   * refused with `STREAM_EXISTS`. Without `openId`, a resume attaches to whatever has the id.
   */
  open(streamId: string, mode: OpenMode, openId?: string): Promise<OpenResult>;
  /**
   * Stores `data` as chunks `seq`, `seq + 1`, …. Idempotent: the part at or below the stored
   * `lastSeq` is dropped (a resend); a `seq` beyond `lastSeq + 1` is refused with `SEQ_GAP`.
   * Resolves once the store holds the chunks, with the new `lastSeq`.
   */
  append(streamId: string, lease: number, seq: number, data: readonly string[]): Promise<{ lastSeq: number }>;
  /**
   * Ends an open stream. `lease` is the producer's, or `null` when the relay ends it (inactivity,
   * cancel). `expectedLastSeq`, when given, must equal the stored `lastSeq` (else `SEQ_GAP`).
   * Ending an ended stream again with the same reason returns its info (a retried end frame).
   */
  end(streamId: string, lease: number | null, reason: EndReason, expectedLastSeq?: number): Promise<StreamInfo>;
  /** The stream's state, or `undefined` when there is no such stream (or it expired). */
  info(streamId: string): Promise<StreamInfo | undefined>;
  /** Up to `limit` chunks from `fromSeq` on (fewer at the end; `[]` past it or for a missing stream). */
  read(streamId: string, fromSeq: number, limit: number): Promise<string[]>;
  /** Calls `listener` for every append and end of `streamId` after it is stored. Returns the unsubscribe. */
  subscribe(streamId: string, listener: (event: StoreEvent) => void): () => void;
  /** A short health report for `/healthz`. */
  health(): Promise<{ status: 'ok' | 'degraded'; store: string; detail?: string }>;
  /** Stops timers and connections. Stored data is left as it is. */
  close(): Promise<void>;
}
