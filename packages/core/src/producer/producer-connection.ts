/**
 * One multiplexed producer connection to a relay: a Socket.IO socket speaking stream-v1 with the
 * `mux` extension, the registry of the streams it carries, and what happens to them when the
 * connection drops, comes back, or is refused for good.
 *
 * The per-stream protocol (open, frames, acks, resume, end) lives in `ProducerStream`; this class
 * only routes socket events to streams and batches their flushes into one pass per event-loop
 * turn.
 */
import { io, type Socket } from 'socket.io-client';
import { StreamstraightError, errorFromPayload } from '../errors.js';
import {
  MAX_FRAMES_PER_BATCH,
  MUX_BATCH_FEATURE,
  MUX_EXTENSION,
  type MuxBatchAck,
  type MuxChunks,
  type MuxChunksAck,
  PROTOCOL_VERSION,
  type ProducerMuxAuth,
  type ProducerToRelayEvents,
  type RelayToProducerEvents,
  SOCKET_PATH,
  isValidStreamId,
} from '../protocol.js';
import { coalesceWrites } from './coalesce-writes.js';

/** The version this SDK reports in its handshake (`sdkVersion`). */
export const PRODUCER_SDK_VERSION = '0.0.0';

/** A producer's typed Socket.IO socket. */
export type ProducerSocket = Socket<RelayToProducerEvents, ProducerToRelayEvents>;

/** What identifies (and configures) one pooled connection. */
export interface ConnectionSettings {
  /** The relay URL, e.g. `http://localhost:8787`; a path prefix is kept for the Socket.IO path. */
  baseUrl: string;
  /** The API key sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Reconnect attempts before giving up with `RELAY_UNAVAILABLE` (0: never reconnect). */
  retries: number;
  /** First reconnect delay in ms (doubles each attempt, with jitter). */
  retryBaseMs: number;
  /** Largest reconnect delay in ms. */
  retryMaxMs: number;
}

/** What a connection needs from each stream it carries. Implemented by `ProducerStream`. */
export interface MuxStream {
  readonly streamId: string;
  /** Set by {@link ProducerConnection.scheduleFlush}, cleared by {@link flush}. */
  flushQueued: boolean;
  /** Sends whatever can be sent now (frames, the end frame). */
  flush(): void;
  /** The socket (re)connected: open or resume the stream. */
  handleConnect(): void;
  /** The socket dropped: every ack in flight is void. */
  handleDisconnect(): void;
  /** A reader cancelled the stream through the relay. */
  handleCancel(reason: string): void;
  /** The relay reported an error for this stream outside an ack. */
  handleRelayError(payload: unknown): void;
  /** The connection is gone for good. */
  fail(error: StreamstraightError): void;
}

const schedule: (callback: () => void) => void =
  typeof setImmediate === 'function' ? (callback) => setImmediate(callback) : (callback) => setTimeout(callback, 0);

/**
 * Soft cap on the size of one `mux:batch`, in UTF-16 units of chunk data (at most 3 bytes each in
 * UTF-8, so a batch stays well under the relay's 8 MB message limit). A frame alone may exceed it.
 */
export const MAX_BATCH_UNITS = 1 << 20;

/** A frame waiting in the batch being assembled, and who waits for its answer. */
interface BatchedFrame {
  frame: MuxChunks;
  timeoutMs: number;
  onAck: (result: MuxChunksAck) => void;
  onFailure: (error: unknown) => void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A server-initiated disconnect after a connection that lasted less than this counts as a failed attempt. */
const STABLE_CONNECTION_MS = 10_000;

function connectErrorToError(error: Error & { data?: unknown }, baseUrl: string): StreamstraightError {
  const data = error.data;
  if (typeof data === 'object' && data !== null && typeof (data as { code?: unknown }).code === 'string') {
    return errorFromPayload(data);
  }
  try {
    const parsed: unknown = JSON.parse(error.message);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { code?: unknown }).code === 'string') {
      return errorFromPayload(parsed);
    }
  } catch {
    // not JSON: fall through
  }
  return new StreamstraightError('RELAY_UNAVAILABLE', `The relay at ${baseUrl} refused the connection: ${error.message}`, {
    cause: error,
  });
}

/**
 * One warm Socket.IO connection that carries many streams (see `connection-pool.ts` for sharing).
 *
 * Keeping the process alive: the socket is created with `autoUnref`, so an idle connection never
 * holds a Node process open; while streams are live (or the first connect is pending) a
 * referenced timer does, so a script that awaits `server.stream()` is not cut short.
 */
export class ProducerConnection {
  /** The Socket.IO socket. Streams emit on it directly (Socket.IO keeps order per connection). */
  readonly socket: ProducerSocket;
  /** The settings it was created with. */
  readonly settings: ConnectionSettings;
  /** Called once when the connection closes or fails for good (the pool forgets it). */
  onClosed: (() => void) | undefined;

  private readonly streams = new Map<string, MuxStream>();
  private dirty: MuxStream[] = [];
  private flushScheduled = false;
  /** The relay accepts `mux:batch` (it said so in `mux:hello` on this connection). */
  private batchAccepted = false;
  /** Frames collected during a flush pass, sent together at its end; undefined outside a pass. */
  private batch: BatchedFrame[] | undefined;
  private batchUnits = 0;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (error: StreamstraightError) => void;
  private everConnected = false;
  private closedWith: StreamstraightError | undefined;
  private closed = false;
  private lastError: unknown;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectedAt = 0;
  private serverDisconnects = 0;

  /**
   * Creates the socket and starts connecting.
   * @param settings - URL, API key and reconnect budget.
   */
  constructor(settings: ConnectionSettings) {
    this.settings = settings;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {}); // observed through ready(); never an unhandled rejection

    const url = new URL(settings.baseUrl);
    const prefix = url.pathname.replace(/\/+$/, '');
    const auth: ProducerMuxAuth = {
      role: 'producer',
      version: PROTOCOL_VERSION,
      extensions: [MUX_EXTENSION],
      sdkVersion: PRODUCER_SDK_VERSION,
    };
    this.socket = io(url.origin, {
      path: `${prefix}${SOCKET_PATH}`,
      transports: ['websocket'],
      forceNew: true,
      autoUnref: true,
      reconnection: settings.retries > 0,
      reconnectionAttempts: settings.retries,
      reconnectionDelay: settings.retryBaseMs,
      reconnectionDelayMax: settings.retryMaxMs,
      extraHeaders: { Authorization: `Bearer ${settings.apiKey}` },
      auth,
    }) as ProducerSocket;

    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('connect_error', (error) => this.onConnectError(error));
    this.socket.io.on('reconnect_failed', () => {
      this.fail(
        new StreamstraightError(
          'RELAY_UNAVAILABLE',
          `Could not reach the relay at ${settings.baseUrl} after ${settings.retries} reconnect attempts.`,
          { cause: this.lastError },
        ),
      );
    });
    this.socket.on('mux:cancel', (payload) => {
      if (typeof payload !== 'object' || payload === null || !isValidStreamId(payload.streamId)) return;
      this.streams.get(payload.streamId)?.handleCancel(typeof payload.reason === 'string' ? payload.reason : 'cancelled by a reader');
    });
    this.socket.on('stream:error', (payload) => {
      const streamId = typeof payload === 'object' && payload !== null ? payload.streamId : undefined;
      if (isValidStreamId(streamId)) this.streams.get(streamId)?.handleRelayError(payload);
      else this.lastError = errorFromPayload(payload);
    });
    this.socket.on('mux:hello', (payload) => {
      this.batchAccepted = isRecord(payload) && Array.isArray(payload.features) && payload.features.includes(MUX_BATCH_FEATURE);
    });
    this.socket.on('connection:error', (payload) => {
      this.lastError = errorFromPayload(payload);
    });
    this.updateKeepAlive();
  }

  /** Whether the socket is connected right now. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /** Whether the connection is closed for good (a new one must be made). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Number of live streams on this connection. */
  get streamCount(): number {
    return this.streams.size;
  }

  /**
   * Resolves once the first handshake succeeded; rejects with `UNAUTHORIZED` (or the relay's
   * code) when the relay refuses it, or `RELAY_UNAVAILABLE` when the retry budget runs out.
   * @returns a promise of the first connect.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Adds a stream. The stream opens itself on connect (or now, when already connected).
   * @param stream - the stream.
   */
  register(stream: MuxStream): void {
    if (this.closed) throw this.closedWith ?? new StreamstraightError('CLOSED', 'This producer connection is closed.');
    if (this.streams.has(stream.streamId)) {
      throw new StreamstraightError(
        'STREAM_EXISTS',
        `Stream ${stream.streamId} is already being produced on this connection; close it before starting it again.`,
      );
    }
    this.streams.set(stream.streamId, stream);
    this.updateKeepAlive();
    // After a server-initiated disconnect with no live stream, nothing reconnects by itself.
    if (!this.socket.connected && !this.socket.active && this.reconnectTimer === undefined) this.socket.connect();
  }

  /**
   * Removes a stream (it ended or failed).
   * @param stream - the stream.
   */
  unregister(stream: MuxStream): void {
    if (this.streams.get(stream.streamId) === stream) {
      this.streams.delete(stream.streamId);
      this.updateKeepAlive();
    }
  }

  /**
   * Asks for `stream.flush()` on the next event-loop turn, so every chunk queued in this turn
   * (by this stream and all others) goes out in as few frames as possible.
   * @param stream - a stream with something to send.
   */
  scheduleFlush(stream: MuxStream): void {
    if (stream.flushQueued) return;
    stream.flushQueued = true;
    this.dirty.push(stream);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      schedule(this.flushDirty);
    }
  }

  /**
   * Sends one `mux:chunks` frame. During a flush pass on a relay that accepts batches, the frame
   * waits for the end of the pass and travels in one `mux:batch` with the other streams' frames:
   * with hundreds of live streams that is one message and one ack per pass instead of one per stream.
   * @param frame - the frame.
   * @param timeoutMs - how long to wait for the relay's answer.
   * @param onAck - gets the relay's answer for this frame.
   * @param onFailure - gets the error when the ack times out or the socket drops.
   */
  sendChunks(frame: MuxChunks, timeoutMs: number, onAck: (result: MuxChunksAck) => void, onFailure: (error: unknown) => void): void {
    const batch = this.batch;
    if (batch === undefined) {
      this.socket.timeout(timeoutMs).emitWithAck('mux:chunks', frame).then(onAck, onFailure);
      return;
    }
    let units = 0;
    for (const chunk of frame.data) units += chunk.length;
    if (batch.length > 0 && (batch.length >= MAX_FRAMES_PER_BATCH || this.batchUnits + units > MAX_BATCH_UNITS)) {
      this.batch = [];
      this.batchUnits = 0;
      this.sendBatch(batch);
    }
    this.batchUnits += units;
    (this.batch as BatchedFrame[]).push({ frame, timeoutMs, onAck, onFailure });
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    if (this.batchAccepted) {
      this.batch = [];
      this.batchUnits = 0;
    }
    try {
      for (const stream of dirty) stream.flush();
    } finally {
      const batch = this.batch;
      this.batch = undefined;
      if (batch !== undefined) this.sendBatch(batch);
    }
  };

  private sendBatch(batch: BatchedFrame[]): void {
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only !== undefined) {
      this.socket.timeout(only.timeoutMs).emitWithAck('mux:chunks', only.frame).then(only.onAck, only.onFailure);
      return;
    }
    if (batch.length === 0) return;
    let timeoutMs = 0;
    for (const entry of batch) timeoutMs = Math.max(timeoutMs, entry.timeoutMs);
    this.socket
      .timeout(timeoutMs)
      .emitWithAck('mux:batch', { frames: batch.map((entry) => entry.frame) })
      .then(
        (answer: MuxBatchAck) => {
          const results = isRecord(answer) && answer.ok === true && Array.isArray(answer.results) ? answer.results : undefined;
          if (results !== undefined && results.length === batch.length) {
            for (const [index, entry] of batch.entries()) entry.onAck(results[index] as MuxChunksAck);
            return;
          }
          // The whole batch was refused (or the answer is malformed): every frame gets that answer.
          const refusal = (isRecord(answer) && answer.ok === false ? answer : undefined) as MuxChunksAck;
          for (const entry of batch) entry.onAck(refusal);
        },
        (error: unknown) => {
          for (const entry of batch) entry.onFailure(error);
        },
      );
  }

  /** Closes the socket. Streams still live fail with `CLOSED`. */
  close(): void {
    this.fail(new StreamstraightError('CLOSED', 'The producer connection was closed.'));
  }

  /**
   * Closes the connection for good and fails every live stream with `error`.
   * @param error - why.
   */
  fail(error: StreamstraightError): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = error;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.fail(error);
    this.rejectReady(error);
    this.socket.disconnect();
    this.updateKeepAlive();
    const onClosed = this.onClosed;
    this.onClosed = undefined;
    onClosed?.();
  }

  private onConnect(): void {
    coalesceWrites(this.socket);
    this.everConnected = true;
    this.connectedAt = Date.now();
    this.updateKeepAlive();
    this.resolveReady();
    for (const stream of [...this.streams.values()]) stream.handleConnect();
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    this.batchAccepted = false; // the next relay says again what it accepts
    if (this.closed || reason === 'io client disconnect') return;
    for (const stream of [...this.streams.values()]) stream.handleDisconnect();
    if (this.settings.retries === 0) {
      this.fail(new StreamstraightError('RELAY_UNAVAILABLE', `Lost the connection to the relay at ${this.settings.baseUrl} (${reason}); retries is 0.`));
      return;
    }
    if (reason === 'io server disconnect') {
      // Socket.IO does not reconnect after a server-initiated disconnect (a relay shutting down or
      // rebalancing). Reconnect ourselves, with the same budget and backoff as the Manager.
      if (Date.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.serverDisconnects = 0;
      this.serverDisconnects++;
      if (this.serverDisconnects > this.settings.retries) {
        this.fail(new StreamstraightError('RELAY_UNAVAILABLE', `The relay at ${this.settings.baseUrl} keeps closing the connection.`));
        return;
      }
      if (this.streams.size === 0) return; // reconnect lazily, when a stream is registered
      const delay = Math.min(this.settings.retryMaxMs, this.settings.retryBaseMs * 2 ** (this.serverDisconnects - 1));
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.closed) this.socket.connect();
      }, delay);
    }
  }

  private onConnectError(error: Error & { data?: unknown }): void {
    if (this.closed) return;
    this.lastError = error;
    if (!this.socket.active) {
      // Refused by the relay's middleware (bad API key…): Socket.IO does not retry these.
      this.fail(connectErrorToError(error, this.settings.baseUrl));
    } else if (this.settings.retries === 0) {
      this.fail(
        new StreamstraightError('RELAY_UNAVAILABLE', `Could not reach the relay at ${this.settings.baseUrl}: ${error.message}`, {
          cause: error,
        }),
      );
    }
    // Otherwise the Manager retries with backoff and ends with `reconnect_failed`.
  }

  private updateKeepAlive(): void {
    const needed = !this.closed && (this.streams.size > 0 || !this.everConnected);
    if (needed && this.keepAliveTimer === undefined) {
      this.keepAliveTimer = setInterval(() => {}, 1 << 30);
    } else if (!needed && this.keepAliveTimer !== undefined) {
      clearInterval(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
    }
  }
}
