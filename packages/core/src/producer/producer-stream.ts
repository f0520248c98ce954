/**
 * The producer side of one stream on a multiplexed connection: open, frames of chunks, acks,
 * backpressure, resume after a reconnect, end. `StreamWriter` is its public face.
 *
 * States:
 * - `idle`: nothing sent yet (the connection is not up).
 * - `opening`: a fresh `mux:open` is in flight; frames are pipelined right behind it (the relay
 *   processes a stream's events in order), so a warm start costs no round trip.
 * - `open`: frames flow.
 * - `disconnected`: the socket dropped; every ack in flight is void (see `generation`).
 * - `syncing`: a `mux:open {resume: true}` (or a retried open) is in flight; no frame goes out
 *   until its ack says where the relay stands, then everything after `info.lastSeq` is resent.
 * - `ended` / `failed`: settled; the stream is off the connection.
 *
 * Acks of a previous generation (a dead connection, or frames sent before a resync) are applied
 * when they carry good news (`lastSeq` only grows) and ignored when they carry an error. That
 * covers both things Socket.IO 4.8 does with a pending `emitWithAck` when its connection drops:
 * it rejects at once with "socket has been disconnected" when the packet was written, and keeps
 * a packet that was still buffered (and its ack) to send after the reconnect. Older clients let
 * the ack time out; we never wait for that, since `handleDisconnect` moves on immediately.
 */
import { StreamstraightError, type StreamstraightErrorCode, errorFromPayload } from '../errors.js';
import {
  type EndReason,
  MAX_CHUNKS_PER_FRAME,
  type MuxChunksAck,
  type MuxEndAck,
  type MuxOpen,
  type MuxOpenAck,
  utf8ByteLength,
} from '../protocol.js';
import { AckWindow } from './ack-window.js';
import type { MuxStream, ProducerConnection } from './producer-connection.js';

/** Turns a chunk into the string stored by the relay. An empty string (or `undefined`) skips the chunk. */
export type ChunkEncoder<T = unknown> = (chunk: T) => string | undefined;

/** Settings of one {@link ProducerStream}. */
export interface ProducerStreamSettings {
  streamId: string;
  encoder: ChunkEncoder;
  overwrite: boolean;
  windowSize: number;
  /** Largest summed UTF-8 size of unacknowledged chunks (`Infinity`: no byte limit). */
  windowBytes?: number;
  maxChunkBytes: number;
  ackTimeoutMs: number;
  /** Resyncs in a row without progress before the stream fails. */
  retries: number;
  retryBaseMs: number;
  /** Aborted when a reader cancels the stream. */
  controller: AbortController;
  /** Called once when the stream ends or fails. */
  onSettled?: () => void;
}

type State = 'idle' | 'opening' | 'open' | 'disconnected' | 'syncing' | 'ended' | 'failed';

interface Waiter {
  data: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Frames of one stream in flight at once. While one frame awaits its ack, another goes out only
 * when it is worth it (at least {@link MIN_PIPELINED_FRAME} chunks): a stream that trickles one
 * token per event-loop turn then sends one frame per round trip instead of one per token, so
 * frames grow by themselves when the relay is busy, while bulk streams still pipeline.
 */
export const MAX_FRAMES_IN_FLIGHT = 4;
/** Smallest frame sent while another frame of the stream is in flight. */
export const MIN_PIPELINED_FRAME = 64;
/** Soft cap on the UTF-8 size of one frame (Socket.IO's default `maxHttpBufferSize` is 1 MB). */
export const MAX_FRAME_BYTES = 512 * 1024;

/** What `send()` returns when the chunk went straight into the window (compare by identity to skip an `await`). */
export const SEND_ACCEPTED: Promise<void> = Promise.resolve();

/** Codes worth a resync (re-open with `resume`, resend from the relay's `lastSeq + 1`). */
const RETRYABLE = new Set<StreamstraightErrorCode>(['STORE_UNAVAILABLE', 'TIMEOUT', 'INTERNAL', 'RELAY_UNAVAILABLE', 'SEQ_GAP']);
/** Failures after which the relay still has the stream open: end it ourselves, best effort. */
const LEAVES_STREAM_OPEN = new Set<StreamstraightErrorCode>([
  'CHUNK_TOO_LARGE',
  'QUOTA_EXCEEDED',
  'SEQ_GAP',
  'STORE_UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
  'BAD_REQUEST',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function malformedAck(event: string): StreamstraightError {
  return new StreamstraightError('INTERNAL', `The relay answered ${event} with a malformed ack.`);
}

/** 96 random bits in hex: this producer's own id for a stream (`MuxOpen.openId`). */
function randomOpenId(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** One stream's producer state machine. Internal: use `StreamWriter`. */
export class ProducerStream implements MuxStream {
  readonly streamId: string;
  flushQueued = false;
  /** Sent with every open of this stream, so a resume never attaches to someone else's stream with the same id. */
  private readonly openId = randomOpenId();

  private readonly connection: ProducerConnection;
  private readonly settings: ProducerStreamSettings;
  private readonly window: AckWindow;
  private state: State = 'idle';
  /** Bumped on disconnect and resync: acks of older generations carry no errors. */
  private generation = 0;
  private inFlight = 0;
  private openSent = false;
  private opened = false;
  private endReason: EndReason | undefined;
  private endSentReason: EndReason | undefined;
  private endInFlight = false;
  private syncAttempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Waiter[] = [];
  private failure: StreamstraightError | undefined;
  private cancelledWith: StreamstraightError | undefined;
  private closePromise: Promise<void> | undefined;
  private resolveClose: (() => void) | undefined;
  private rejectClose: ((error: unknown) => void) | undefined;
  private stopListener: (() => void) | undefined;
  private resolveOpened: (() => void) | undefined;
  private rejectOpened: ((error: unknown) => void) | undefined;
  /**
   * Resolves once the relay acknowledged the stream's open (it then holds the stream: readers and
   * status requests anywhere see it); rejects with the stream's failure if it fails before that
   * (`STREAM_EXISTS`, `UNAUTHORIZED`, `RELAY_UNAVAILABLE`…). Never an unhandled rejection.
   */
  readonly whenOpened: Promise<void>;

  /**
   * Registers the stream on the connection and opens it (now, or on connect).
   * @param connection - the multiplexed connection.
   * @param settings - stream id, encoder, window, timeouts.
   */
  constructor(connection: ProducerConnection, settings: ProducerStreamSettings) {
    this.connection = connection;
    this.settings = settings;
    this.streamId = settings.streamId;
    this.window = new AckWindow(settings.windowSize, settings.windowBytes);
    this.whenOpened = new Promise<void>((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
    this.whenOpened.catch(() => {});
    try {
      connection.register(this);
    } catch (error) {
      this.fail(StreamstraightError.from(error));
      return;
    }
    if (connection.connected) this.sendOpen('fresh');
  }

  /** The cancel signal of this stream. */
  get signal(): AbortSignal {
    return this.settings.controller.signal;
  }

  /** Whether the stream ended or failed. */
  get settled(): boolean {
    return this.state === 'ended' || this.state === 'failed';
  }

  /** Why the stream failed, if it did. */
  get error(): StreamstraightError | undefined {
    return this.failure;
  }

  /** Whether a reader cancelled the stream. */
  get cancelled(): boolean {
    return this.cancelledWith !== undefined;
  }

  /**
   * Sets the one function called when a reader cancels the stream or the stream settles: the
   * pump of `server.stream()` uses it to stop waiting for a slow source. One slot, replaced per
   * wait, so a long stream accumulates nothing (unlike racing a long-lived promise).
   * @param listener - the function, or undefined to clear it.
   */
  setStopListener(listener: (() => void) | undefined): void {
    this.stopListener = listener;
  }

  /**
   * Encodes a chunk and adds it to the window. Returns an already-resolved promise while the
   * window has room; otherwise a promise that resolves when the chunk is in the window.
   * @param chunk - the chunk.
   * @returns a promise that rejects with the stream's failure.
   */
  send(chunk: unknown): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.cancelledWith !== undefined) return Promise.reject(this.cancelledWith);
    if (this.endReason !== undefined || this.settled) {
      return Promise.reject(new StreamstraightError('CLOSED', `send() after close() or abort() on stream ${this.streamId}.`));
    }
    let data: string | undefined;
    try {
      data = this.settings.encoder(chunk);
    } catch (error) {
      return Promise.reject(StreamstraightError.from(error, 'BAD_REQUEST'));
    }
    if (data === undefined || data === '') return SEND_ACCEPTED;
    if (typeof data !== 'string') {
      return Promise.reject(new StreamstraightError('BAD_REQUEST', `The encoder of stream ${this.streamId} must return a string.`));
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: measure only chunks that might be over the limit.
    if (data.length * 3 > this.settings.maxChunkBytes && utf8ByteLength(data) > this.settings.maxChunkBytes) {
      return Promise.reject(
        new StreamstraightError(
          'CHUNK_TOO_LARGE',
          `A chunk of ${utf8ByteLength(data)} bytes on stream ${this.streamId} is over the limit of ${this.settings.maxChunkBytes} bytes. Split it into smaller chunks.`,
        ),
      );
    }
    if (this.waiters.length === 0 && this.window.hasRoom) {
      this.window.push(data);
      this.requestFlush();
      return SEND_ACCEPTED;
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ data, resolve, reject });
    });
  }

  /**
   * Ends the stream once every chunk is acknowledged.
   * @param reason - `completed`, `producer-error` or `cancelled` (a cancelled stream always ends `cancelled`).
   * @returns a promise that resolves when the relay acknowledged the end.
   */
  end(reason: EndReason): Promise<void> {
    if (this.closePromise === undefined) {
      if (this.failure !== undefined) this.closePromise = Promise.reject(this.failure);
      else if (this.state === 'ended') this.closePromise = SEND_ACCEPTED;
      else {
        this.closePromise = new Promise<void>((resolve, reject) => {
          this.resolveClose = resolve;
          this.rejectClose = reject;
        });
      }
    }
    if (this.endReason === undefined && !this.settled) {
      this.endReason = this.cancelledWith !== undefined ? 'cancelled' : reason;
      this.maybeSendEnd();
    }
    return this.closePromise;
  }

  // ------------------------------------------------------------------------------------------
  // Events from the connection

  /** @inheritdoc */
  handleConnect(): void {
    if (this.settled) return;
    if (!this.openSent) {
      this.sendOpen('fresh');
      return;
    }
    this.beginSync();
    this.reopen();
  }

  /** @inheritdoc */
  handleDisconnect(): void {
    if (this.settled) return;
    this.generation++;
    this.inFlight = 0;
    this.endInFlight = false;
    this.clearRetryTimer();
    if (this.state !== 'idle') this.state = 'disconnected';
  }

  /** @inheritdoc */
  handleCancel(reason: string): void {
    if (this.settled || this.cancelledWith !== undefined) return;
    this.cancelledWith = new StreamstraightError('STREAM_CANCELLED', `A reader cancelled stream ${this.streamId}: ${reason}`);
    this.notifyStop();
    this.settings.controller.abort(this.cancelledWith);
  }

  /** @inheritdoc */
  handleRelayError(payload: unknown): void {
    if (this.settled) return;
    this.handleError(errorFromPayload(payload));
  }

  /** @inheritdoc */
  flush(): void {
    this.flushQueued = false;
    if ((this.state !== 'open' && this.state !== 'opening') || !this.connection.connected) return;
    const timeoutMs = this.settings.ackTimeoutMs;
    while (this.inFlight < MAX_FRAMES_IN_FLIGHT) {
      if (this.inFlight > 0 && this.window.unsentCount < MIN_PIPELINED_FRAME) break;
      const frame = this.window.takeFrame(MAX_CHUNKS_PER_FRAME, MAX_FRAME_BYTES);
      if (frame === undefined) break;
      this.inFlight++;
      const generation = this.generation;
      // The connection may carry it in one mux:batch with the frames of other streams.
      this.connection.sendChunks(
        { streamId: this.streamId, seq: frame.seq, data: frame.data },
        timeoutMs,
        (result) => this.onChunksAck(result, generation),
        (error: unknown) => this.onAckFailure(error, generation),
      );
    }
    this.maybeSendEnd();
  }

  /**
   * Fails the stream: pending sends and `close()` reject with `error`.
   * @param error - why.
   */
  fail(error: StreamstraightError): void {
    if (this.settled) return;
    const relayMayHoldItOpen = this.openSent && LEAVES_STREAM_OPEN.has(error.code) && this.connection.connected;
    this.state = 'failed';
    this.failure = error;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
    // When close() was not called yet, it returns a rejected promise made then.
    this.rejectClose?.(error);
    this.rejectOpened?.(error); // no effect once opened
    if (relayMayHoldItOpen) {
      // Best effort: tell readers the stream is over instead of leaving it to the inactivity timeout.
      this.connection.socket.emit('mux:end', { streamId: this.streamId, reason: 'producer-error', lastSeq: this.window.ackedSeq }, () => {});
    }
    this.settle();
  }

  // ------------------------------------------------------------------------------------------
  // Open, resync, end

  private sendOpen(mode: 'fresh' | 'resume'): void {
    const pipelined = mode === 'fresh' && (this.state === 'idle' || this.state === 'opening');
    this.openSent = true;
    if (pipelined) this.state = 'opening';
    const { streamId, openId } = this;
    const payload: MuxOpen = mode === 'resume' ? { streamId, resume: true, openId } : this.settings.overwrite ? { streamId, overwrite: true, openId } : { streamId, openId };
    const generation = this.generation;
    this.connection.socket
      .timeout(this.settings.ackTimeoutMs)
      .emitWithAck('mux:open', payload)
      .then(
        (result) => this.onOpenAck(result, generation, mode),
        (error: unknown) => this.onAckFailure(error, generation),
      );
    if (pipelined && (this.window.unsentCount > 0 || this.endReason !== undefined)) this.requestFlush();
  }

  /** Re-attaches after a reconnect or a retryable error. */
  private reopen(): void {
    if (!this.connection.connected) return; // handleConnect will do it
    if (this.opened || !this.settings.overwrite) this.sendOpen('resume');
    // An overwrite that was never acknowledged: no chunk can have been acknowledged either (acks
    // come back in order), so redo the overwrite and resend from seq 0.
    else this.sendOpen('fresh');
  }

  private beginSync(): void {
    this.generation++;
    this.inFlight = 0;
    this.endInFlight = false;
    this.clearRetryTimer();
    this.state = 'syncing';
  }

  private resync(cause: StreamstraightError, delayMs: number): void {
    this.beginSync();
    this.syncAttempts++;
    if (this.syncAttempts > Math.max(1, this.settings.retries)) {
      this.fail(cause);
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'syncing') this.reopen();
    }, delayMs);
  }

  private onOpenAck(result: MuxOpenAck, generation: number, mode: 'fresh' | 'resume'): void {
    if (generation !== this.generation || this.settled) return;
    if (!isRecord(result)) {
      this.handleError(malformedAck('mux:open'));
      return;
    }
    if (!result.ok) {
      if (mode === 'resume' && !this.opened && result.error?.code === 'STREAM_NOT_FOUND') {
        // The first open never reached the relay: open it now (frames stay blocked until the ack).
        this.sendOpen('fresh');
        return;
      }
      this.handleError(errorFromPayload(result.error));
      return;
    }
    const info = result.info;
    if (!isRecord(info) || typeof info.lastSeq !== 'number') {
      this.handleError(malformedAck('mux:open'));
      return;
    }
    this.opened = true;
    this.resolveOpened?.();
    if (info.status === 'ended') {
      if ((this.endSentReason !== undefined && info.endReason === this.endSentReason) || (this.cancelled && info.endReason === 'cancelled')) {
        // Our end (or the reader's cancel) reached the relay before the connection dropped.
        this.finish();
        return;
      }
      this.fail(new StreamstraightError('STREAM_ENDED', `Stream ${this.streamId} was ended by the relay (${info.endReason ?? 'no reason given'}).`));
      return;
    }
    if (this.state === 'opening') {
      this.state = 'open';
      return;
    }
    if (info.lastSeq < this.window.ackedSeq) {
      this.fail(
        new StreamstraightError(
          'INTERNAL',
          `The relay holds stream ${this.streamId} up to seq ${info.lastSeq}, but had acknowledged seq ${this.window.ackedSeq}: acknowledged chunks were lost.`,
        ),
      );
      return;
    }
    this.window.ack(info.lastSeq);
    this.window.rewind();
    this.state = 'open';
    this.afterProgress();
  }

  private maybeSendEnd(): void {
    if (
      this.endReason === undefined ||
      this.endInFlight ||
      (this.state !== 'open' && this.state !== 'opening') ||
      this.waiters.length > 0 ||
      !this.window.isDrained ||
      !this.connection.connected
    ) {
      return;
    }
    this.endInFlight = true;
    this.endSentReason = this.endReason;
    const generation = this.generation;
    this.connection.socket
      .timeout(this.settings.ackTimeoutMs)
      .emitWithAck('mux:end', { streamId: this.streamId, reason: this.endReason, lastSeq: this.window.nextSeq - 1 })
      .then(
        (result) => this.onEndAck(result, generation),
        (error: unknown) => this.onAckFailure(error, generation),
      );
  }

  private onEndAck(result: MuxEndAck, generation: number): void {
    if (generation !== this.generation || this.settled) return;
    if (!isRecord(result)) {
      this.handleError(malformedAck('mux:end'));
      return;
    }
    if (result.ok) {
      this.finish();
      return;
    }
    const error = errorFromPayload(result.error);
    if (error.code === 'STREAM_ENDED' && this.cancelled) {
      this.finish(); // the relay ended it on the reader's cancel
      return;
    }
    this.handleError(error);
  }

  // ------------------------------------------------------------------------------------------
  // Acks

  private onChunksAck(result: MuxChunksAck, generation: number): void {
    if (this.settled) return;
    if (isRecord(result) && result.ok === true && typeof result.lastSeq === 'number') {
      if (this.window.ack(result.lastSeq) > 0) this.syncAttempts = 0;
      if (generation === this.generation) this.inFlight--;
      this.afterProgress();
      return;
    }
    if (generation !== this.generation) return;
    if (isRecord(result) && result.ok === false) {
      const error = errorFromPayload(result.error);
      if (error.code === 'STREAM_ENDED' && this.cancelled) {
        // The relay ended the stream on the reader's cancel: nothing more will be stored.
        this.finish();
        return;
      }
      this.handleError(error);
    } else this.handleError(malformedAck('mux:chunks'));
  }

  /** `emitWithAck` rejected: the ack timed out, or the socket dropped. */
  private onAckFailure(error: unknown, generation: number): void {
    if (generation !== this.generation || this.settled) return;
    if (!this.connection.connected) return; // handleDisconnect / handleConnect take it from here
    this.resync(
      new StreamstraightError('TIMEOUT', `The relay did not acknowledge stream ${this.streamId} within ${this.settings.ackTimeoutMs} ms.`, {
        cause: error,
      }),
      0,
    );
  }

  private handleError(error: StreamstraightError): void {
    // A quota with `retryInMs` is a rate (chunks per second): wait and resend. Other quotas stand.
    if (RETRYABLE.has(error.code) || (error.code === 'QUOTA_EXCEEDED' && error.retryInMs !== undefined)) {
      this.resync(error, error.retryInMs ?? (error.code === 'SEQ_GAP' ? 0 : this.settings.retryBaseMs));
      return;
    }
    this.fail(error);
  }

  private afterProgress(): void {
    while (this.waiters.length > 0 && this.window.hasRoom) {
      const waiter = this.waiters.shift() as Waiter;
      this.window.push(waiter.data);
      waiter.resolve();
    }
    if (this.window.unsentCount > 0) this.requestFlush();
    else this.maybeSendEnd();
  }

  private requestFlush(): void {
    if (!this.flushQueued) this.connection.scheduleFlush(this);
  }

  private finish(): void {
    if (this.settled) return;
    this.state = 'ended';
    if (this.resolveClose !== undefined) this.resolveClose();
    else if (this.closePromise === undefined) this.closePromise = SEND_ACCEPTED;
    this.settle();
  }

  private settle(): void {
    this.clearRetryTimer();
    this.connection.unregister(this);
    this.notifyStop();
    const onSettled = this.settings.onSettled;
    this.settings.onSettled = undefined;
    onSettled?.();
  }

  private notifyStop(): void {
    const listener = this.stopListener;
    this.stopListener = undefined;
    listener?.();
  }

  private clearRetryTimer(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
