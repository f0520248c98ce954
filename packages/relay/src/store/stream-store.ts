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

/** String fields a caller keeps beside a stream (the Durable Streams face keeps its content type, TTL, forks…). */
export type StreamMetadata = Record<string, string>;

/** A stream's state with its metadata, as {@link StreamStore.describe} returns it. */
export interface StreamDescription {
  info: StreamInfo;
  metadata: StreamMetadata;
}

/** What {@link StreamStore.create} stores when the id is free. */
export interface CreateRequest {
  /** Kept beside the stream, returned by `describe()`. */
  metadata: StreamMetadata;
  /** The first chunks (seq 0, 1, …). Default none. */
  data?: readonly string[];
  /** Ends the stream right after `data`, in the same step. */
  end?: EndReason;
}

/** What {@link StreamStore.create} returns: the stream's state, and whether this call made it. */
export interface CreateResult extends StreamDescription {
  /** False when the id was taken: `info` and `metadata` are then the existing stream's (nothing was changed). */
  created: boolean;
}

/** An idempotent producer's identity and counters (Durable Streams' `Producer-Id`, `-Epoch`, `-Seq`). */
export interface TailProducer {
  id: string;
  epoch: number;
  seq: number;
}

/** What {@link StreamStore.appendAtTail} stores: chunks at whatever the tail is, with optional writer checks. */
export interface TailAppend {
  /** Chunks to store after the last one. Empty only with `end` (a close). */
  data: readonly string[];
  /** Ends the stream after `data`, atomically with it. */
  end?: EndReason;
  /** A writer sequence: must be greater (string order) than the last one stored, which it then replaces. */
  writerSeq?: string;
  /** An idempotent producer: its (epoch, seq) must follow the last accepted one for its id, else nothing is stored. */
  producer?: TailProducer;
  /** Metadata fields set in the same step whenever the stream exists (for example an access time). */
  metadata?: StreamMetadata;
}

/**
 * What {@link StreamStore.appendAtTail} did. Only `appended` stored anything; every other outcome
 * left the chunks as they were. `info` is the stream's state after the call.
 */
export type TailAppendResult =
  | { status: 'appended'; info: StreamInfo; firstSeq: number }
  /** The producer's (epoch, seq) was accepted before (a retry), or it is the one that ended the stream. */
  | { status: 'duplicate'; info: StreamInfo; producerSeq: number }
  /** The stream had ended; nothing can follow. */
  | { status: 'ended'; info: StreamInfo }
  /** The producer's epoch is older than the stored one (a zombie). */
  | { status: 'stale-epoch'; info: StreamInfo; currentEpoch: number }
  /** A new epoch must start at seq 0. */
  | { status: 'epoch-seq'; info: StreamInfo }
  /** The producer's seq skips ahead of the next expected one. */
  | { status: 'producer-gap'; info: StreamInfo; expectedSeq: number }
  /** `writerSeq` is not greater than the stored one. */
  | { status: 'writer-seq'; info: StreamInfo; lastWriterSeq: string };

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
  /**
   * Creates the stream with `request.metadata` (and initial chunks, and an end) when the id is
   * free; when it is taken, changes nothing and returns the existing stream. Atomic: of two
   * concurrent creates one has `created: true`. A created stream has no producer lease: a
   * producer attaches with `open`.
   */
  create(streamId: string, request: CreateRequest): Promise<CreateResult>;
  /** The stream's state and metadata, or `undefined` when there is no such stream. */
  describe(streamId: string): Promise<StreamDescription | undefined>;
  /** Sets (a string) or removes (`null`) metadata fields. Resolves false, changing nothing, when there is no such stream. */
  setMetadata(streamId: string, fields: Record<string, string | null>): Promise<boolean>;
  /** Adds `by` to an integer metadata field (missing = 0). Resolves the new value, or `undefined` when there is no such stream. */
  incrementMetadata(streamId: string, field: string, by: number): Promise<number | undefined>;
  /**
   * Appends `request.data` after the stored chunks, whatever their count (no seq from the caller),
   * after the writer checks in `request` pass, atomically with them (see {@link TailAppendResult}).
   * Takes the stream away from any producer lease (its next write gets `LEASE_LOST`), so a
   * producer's sequenced writes never interleave with these. `STREAM_NOT_FOUND` when missing.
   */
  appendAtTail(streamId: string, request: TailAppend): Promise<TailAppendResult>;
  /** Removes the stream, its chunks and metadata at once. Resolves false when there was none. Listeners get no event. */
  delete(streamId: string): Promise<boolean>;
  /** A short health report for `/healthz`. */
  health(): Promise<{ status: 'ok' | 'degraded'; store: string; detail?: string }>;
  /** Stops timers and connections. Stored data is left as it is. */
  close(): Promise<void>;
}
