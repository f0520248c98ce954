import {
  type ConsumerAuth,
  type ConsumerSubscribeAck,
  type ConsumerToRelayEvents,
  type EndReason,
  type ErrorPayload,
  PROTOCOL_VERSION,
  type RelayToConsumerEvents,
  type StreamChunks,
  type StreamEnd,
  type StreamErrorPayload,
  StreamstraightError,
  errorFromPayload,
  isEndReason,
} from '@ss/core/protocol';
import { type Socket, io } from 'socket.io-client';
import type { StreamstraightClientOptions, ReaderStatus, StreamOptions, StreamReader } from '../streamstraight-client.js';
import { backoffDelay } from './backoff.js';
import { NORMAL_ENDS, asyncDispose, endError, isRecord, isSeq, nonNegative } from './reader-common.js';
import { ChunkQueue } from './chunk-queue.js';
import { isRetryableCode, relayRefusal } from './relay-error.js';
import { relayEndpoint, resolveBaseUrl } from './relay-url.js';
import { Sequencer } from './sequencer.js';
import { TokenSource } from './token-source.js';

type ConsumerSocket = Socket<RelayToConsumerEvents, ConsumerToRelayEvents>;

const DEFAULT_RETRY_BASE_MS = 500;
const DEFAULT_RETRY_MAX_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 10_000;

/**
 * The reader behind {@link streamstraightClient}: one Socket.IO connection (its own manager, never
 * shared), one subscription, a queue between the socket's events and the consumer.
 *
 * Two positions are kept: `sequencer.receivedSeq`, the highest chunk received (queued or read), and
 * `lastSeq`, the highest chunk handed to the consumer. Subscriptions always start at
 * `receivedSeq + 1`, so a reconnect never asks for anything already held.
 */
export class SocketStreamReader<T> implements StreamReader<T> {
  readonly streamId: string;
  lastSeq: number;
  status: ReaderStatus = 'connecting';
  endReason: EndReason | undefined;
  error: StreamstraightError | undefined;

  private readonly socket: ConsumerSocket;
  private readonly tokens: TokenSource;
  private readonly decoder: (data: string) => T;
  private readonly queue = new ChunkQueue<string>();
  private readonly sequencer: Sequencer;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly ackTimeoutMs: number;
  private readonly waitForStreamMs: number;
  private readonly onStatus: StreamOptions['onStatus'];
  private readonly baseUrl: string;
  private readonly abortCleanup: (() => void) | undefined;

  /** Bumped on every subscribe and every disconnect: answers and timers of older ones are ignored. */
  private generation = 0;
  /** `fromSeq` of the latest subscribe whose answer is still awaited, or undefined. */
  private pendingFromSeq: number | undefined;
  /** The end the relay announced (in `stream:end` or a subscribe answer), applied once every chunk is in. */
  private knownEnd: { reason: EndReason; lastSeq: number } | undefined;
  private terminal = false;
  private everLive = false;
  /** A connect with a fresh token after an `UNAUTHORIZED` refusal is under way. */
  private refreshedAfterRefusal = false;
  /** Retries of our own (refused connects, server disconnects, failed subscribes) since the last success. */
  private attempts = 0;
  private notFoundSince: number | undefined;
  private lastFailure: StreamstraightError | undefined;

  /**
   * @param options - how to reach the relay.
   * @param stream - which stream.
   * @param hooks - `onTransportFailure`: called when a connect fails at the transport level before
   *   the reader was ever live; return true to take over (the caller then closes this reader).
   */
  constructor(
    options: StreamstraightClientOptions<T>,
    stream: StreamOptions,
    private readonly hooks: { onTransportFailure?: (error: unknown) => boolean } = {},
  ) {
    this.streamId = stream.streamId;
    const fromSeq = stream.fromSeq ?? 0;
    if (!isSeq(fromSeq)) throw new StreamstraightError('BAD_REQUEST', `\`fromSeq\` must be an integer >= 0, got ${String(stream.fromSeq)}.`);
    this.sequencer = new Sequencer(fromSeq);
    this.lastSeq = fromSeq - 1;
    this.tokens = new TokenSource(options.fetchToken, options.token);
    this.decoder = options.decoder ?? (JSON.parse as (data: string) => T);
    this.retries = nonNegative(options.retries, Number.POSITIVE_INFINITY, 'retries');
    this.retryBaseMs = nonNegative(options.retryBaseMs, DEFAULT_RETRY_BASE_MS, 'retryBaseMs');
    this.retryMaxMs = Math.max(this.retryBaseMs, nonNegative(options.retryMaxMs, DEFAULT_RETRY_MAX_MS, 'retryMaxMs'));
    this.ackTimeoutMs = nonNegative(options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 'ackTimeoutMs');
    this.waitForStreamMs = nonNegative(stream.waitForStreamMs, 0, 'waitForStreamMs');
    this.onStatus = stream.onStatus;
    this.baseUrl = resolveBaseUrl(options.baseUrl);
    const { origin, path } = relayEndpoint(this.baseUrl);
    const transports = options.transports?.length ? options.transports : ['websocket'];

    this.socket = io(origin, {
      path,
      forceNew: true, // one manager per reader: socket.io-client would otherwise share one socket (and its auth) between readers
      autoConnect: false,
      transports,
      tryAllTransports: transports.length > 1,
      reconnection: true,
      reconnectionAttempts: this.retries,
      reconnectionDelay: this.retryBaseMs,
      reconnectionDelayMax: this.retryMaxMs,
      auth: (callback) => this.authenticate(callback),
    }) as ConsumerSocket;

    this.socket.on('connect', () => this.onConnect());
    this.socket.on('connect_error', (error) => this.onConnectError(error));
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('stream:chunks', (payload) => this.onChunks(payload));
    this.socket.on('stream:end', (payload) => this.onEnd(payload));
    this.socket.on('stream:error', (payload) => this.onStreamError(payload));
    this.socket.on('connection:error', (payload) => this.onConnectionError(payload));
    this.socket.io.on('reconnect_failed', () =>
      this.fail(
        new StreamstraightError('RELAY_UNAVAILABLE', `Could not reach the relay at ${this.baseUrl} after ${this.retries} attempts.`, {
          cause: this.lastFailure,
        }),
      ),
    );

    const signal = stream.signal;
    if (signal) {
      const onAbort = () => this.close();
      signal.addEventListener('abort', onAbort, { once: true });
      this.abortCleanup = () => signal.removeEventListener('abort', onAbort);
    }
    if (signal?.aborted) {
      this.close();
      return;
    }
    this.socket.connect();
  }

  // -------------------------------------------------------------------------------------------
  // Consumer side

  next(): Promise<IteratorResult<T, undefined>> {
    // A buffered chunk (the common case while catching up) costs one resolved promise, no await.
    if (this.queue.size > 0) {
      try {
        return Promise.resolve(this.deliver(this.queue.shift()));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.queue.next().then((result) => (result.done ? result : this.deliver(result.value)));
  }

  /** Decodes the next chunk for the consumer; a chunk that does not decode closes the reader with the error. */
  private deliver(data: string): IteratorResult<T, undefined> {
    let value: T;
    try {
      value = this.decoder(data);
    } catch (cause) {
      const error = new StreamstraightError(
        'BAD_REQUEST',
        `Chunk ${this.lastSeq + 1} of stream "${this.streamId}" could not be decoded: ${cause instanceof Error ? cause.message : String(cause)}. Pass a \`decoder\` that matches the producer's encoder.`,
        { cause },
      );
      // The chunk cannot be handed out, so nothing after it can be either: close with this error.
      this.stop('closed', error);
      this.error = error;
      this.setStatus('closed');
      this.queue.close();
      throw error;
    }
    this.lastSeq++;
    return { done: false, value };
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): StreamReader<T> {
    return this;
  }

  close(): void {
    this.queue.close();
    if (!this.terminal) this.stop('closed');
  }

  async [asyncDispose](): Promise<void> {
    this.close();
  }

  async cancel(reason?: string): Promise<void> {
    if (this.terminal) return;
    let answer: unknown;
    try {
      answer = await this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck('consumer:cancel', reason === undefined ? { streamId: this.streamId } : { streamId: this.streamId, reason });
    } catch (cause) {
      throw new StreamstraightError('TIMEOUT', `The relay did not answer the cancel of stream "${this.streamId}" within ${this.ackTimeoutMs} ms.`, { cause });
    }
    if (isRecord(answer) && answer.ok === true) return;
    throw errorFromPayload(isRecord(answer) ? answer.error : undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  private authenticate(callback: (data: object) => void): void {
    this.tokens.get().then(
      (token) => {
        if (this.terminal) return;
        // The relay starts the subscription with the connection; `onConnect` still subscribes, and
        // that subscribe (same position: nothing arrives in between) is only answered.
        const auth: ConsumerAuth = { role: 'consumer', token, version: PROTOCOL_VERSION, subscribe: { streamId: this.streamId, fromSeq: this.sequencer.nextSeq } };
        callback(auth);
      },
      (cause: unknown) => {
        if (this.terminal) return;
        const error = StreamstraightError.isInstance(cause)
          ? cause
          : new StreamstraightError('UNAUTHORIZED', `fetchToken failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        if (StreamstraightError.isInstance(cause) && !isRetryableCode(cause.code)) {
          this.fail(error);
          return;
        }
        // A failed connection attempt: drop the half-open connection and try again within the retry budget.
        this.lastFailure = error;
        this.socket.disconnect();
        this.retryLater(() => this.socket.connect(), 'reconnect');
      },
    );
  }

  private onConnect(): void {
    if (this.terminal) return;
    this.subscribe();
  }

  private onConnectError(error: unknown): void {
    if (this.terminal) return;
    const refusal = relayRefusal(error);
    if (!refusal && !this.everLive && this.hooks.onTransportFailure?.(error)) return;
    if (!refusal) {
      // Unreachable relay or a transport failure: the manager retries by itself (`reconnect_failed` ends it).
      this.lastFailure = new StreamstraightError('RELAY_UNAVAILABLE', `Could not connect to the relay at ${this.baseUrl}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
      this.setStatus(this.everLive ? 'resuming' : 'connecting');
      return;
    }
    this.handleRelayError(refusal, 'connect');
  }

  private onDisconnect(reason: string): void {
    if (this.terminal) return;
    this.generation++;
    this.pendingFromSeq = undefined;
    this.setStatus(this.everLive ? 'resuming' : 'connecting');
    // The relay closed our session on purpose (restart, drain): socket.io-client does not reconnect by itself.
    if (reason === 'io server disconnect') this.retryLater(() => this.socket.connect(), 'reconnect');
  }

  /** Reconnects with a fresh token (the relay refused the old one). */
  private reconnectWithFreshToken(): void {
    this.refreshedAfterRefusal = true;
    this.tokens.invalidate();
    if (this.socket.connected) this.socket.disconnect();
    this.socket.connect();
  }

  // -------------------------------------------------------------------------------------------
  // Subscription

  /**
   * Sends `consumer:subscribe` from the next chunk not yet received. The answer is handled in the
   * ack callback itself (not after an `await`), so it is seen before the frames that follow it.
   */
  private subscribe(): void {
    const generation = ++this.generation;
    const fromSeq = this.sequencer.nextSeq;
    this.pendingFromSeq = fromSeq;
    this.socket
      .timeout(this.ackTimeoutMs)
      .emit('consumer:subscribe', { streamId: this.streamId, fromSeq }, (timeout: Error | null, answer: ConsumerSubscribeAck) => {
        if (generation !== this.generation || this.terminal) return;
        this.pendingFromSeq = undefined;
        if (timeout) {
          // No answer in time: treat the connection as dead; reconnecting resubscribes.
          this.lastFailure = new StreamstraightError('TIMEOUT', `The relay did not answer the subscribe to "${this.streamId}" within ${this.ackTimeoutMs} ms.`, {
            cause: timeout,
          });
          this.socket.disconnect();
          this.retryLater(() => this.socket.connect(), 'reconnect');
          return;
        }
        this.onSubscribed(answer);
      });
  }

  private onSubscribed(answer: ConsumerSubscribeAck): void {
    if (!isRecord(answer) || typeof answer.ok !== 'boolean') {
      this.fail(new StreamstraightError('INTERNAL', `The relay answered the subscribe to "${this.streamId}" with a malformed payload.`));
      return;
    }
    if (!answer.ok) {
      this.handleRelayError(errorFromPayload(answer.error), 'subscribe');
      return;
    }
    this.attempts = 0;
    this.notFoundSince = undefined;
    this.refreshedAfterRefusal = false;
    this.everLive = true;
    this.setStatus('live');
    const info = answer.info;
    if (isRecord(info) && info.status === 'ended' && (isSeq(info.lastSeq) || info.lastSeq === -1)) {
      this.knownEnd ??= { reason: isEndReason(info.endReason) ? info.endReason : 'completed', lastSeq: info.lastSeq };
      this.finishIfComplete();
    }
  }

  /** Subscribes again from the next missing chunk, unless such a subscribe is already awaiting its answer. */
  private resubscribe(): void {
    if (this.pendingFromSeq === this.sequencer.nextSeq || !this.socket.connected) return;
    this.socket.emit('consumer:unsubscribe', { streamId: this.streamId });
    this.subscribe();
  }

  private onChunks(payload: StreamChunks): void {
    if (this.terminal || !isRecord(payload) || payload.streamId !== this.streamId) return;
    const { seq, data } = payload;
    if (!isSeq(seq) || !Array.isArray(data) || !data.every((item) => typeof item === 'string')) {
      this.fail(new StreamstraightError('INTERNAL', `The relay sent a malformed stream:chunks frame for "${this.streamId}".`));
      return;
    }
    const verdict = this.sequencer.accept(seq, data);
    if (verdict.kind === 'append') {
      this.queue.push(verdict.data);
      this.finishIfComplete();
    } else if (verdict.kind === 'gap') {
      // Never hand out chunks out of order: ask again from the first missing one.
      this.resubscribe();
    }
  }

  private onEnd(payload: StreamEnd): void {
    if (this.terminal || !isRecord(payload) || payload.streamId !== this.streamId) return;
    if (!isEndReason(payload.reason) || !(isSeq(payload.lastSeq) || payload.lastSeq === -1)) {
      this.fail(new StreamstraightError('INTERNAL', `The relay sent a malformed stream:end frame for "${this.streamId}".`));
      return;
    }
    this.knownEnd = { reason: payload.reason, lastSeq: payload.lastSeq };
    if (!this.finishIfComplete()) this.resubscribe(); // chunks before the end are missing: fetch them
  }

  private finishIfComplete(): boolean {
    const end = this.knownEnd;
    if (!end || this.sequencer.receivedSeq < end.lastSeq) return false;
    this.endReason = end.reason;
    this.stop('ended', NORMAL_ENDS.has(end.reason) ? undefined : endError(this.streamId, end.reason, end.lastSeq));
    return true;
  }

  private onStreamError(payload: StreamErrorPayload): void {
    if (this.terminal) return;
    if (isRecord(payload) && typeof payload.streamId === 'string' && payload.streamId !== this.streamId) return;
    this.handleRelayError(errorFromPayload(payload), 'stream');
  }

  private onConnectionError(payload: ErrorPayload): void {
    if (this.terminal) return;
    const error = errorFromPayload(payload);
    if (isRetryableCode(error.code)) {
      this.lastFailure = error; // the relay drops the connection next; the reconnect resubscribes
      return;
    }
    this.handleRelayError(error, 'connect');
  }

  /** One policy for every error the relay reports: refresh the token once, wait for the stream, retry transient failures, or fail. */
  private handleRelayError(error: StreamstraightError, during: 'connect' | 'subscribe' | 'stream'): void {
    this.lastFailure = error;
    if (error.code === 'UNAUTHORIZED' && this.tokens.canRefresh && !this.refreshedAfterRefusal) {
      this.reconnectWithFreshToken();
      return;
    }
    if (error.code === 'STREAM_NOT_FOUND' && during === 'subscribe' && this.waitForStreamMs > 0) {
      const now = Date.now();
      this.notFoundSince ??= now;
      const remaining = this.waitForStreamMs - (now - this.notFoundSince);
      if (remaining > 0) {
        // Not a failure yet: poll for the stream at the base delay, outside the retry budget.
        this.setStatus(this.everLive ? 'resuming' : 'connecting');
        this.schedule(() => this.subscribe(), 'subscribe', Math.min(remaining, backoffDelay(0, this.retryBaseMs, this.retryMaxMs)));
        return;
      }
    }
    if (isRetryableCode(error.code)) {
      if (during === 'connect') this.retryLater(() => this.socket.connect(), 'reconnect', error.retryInMs);
      else this.retryLater(() => this.subscribe(), 'subscribe', error.retryInMs);
      return;
    }
    this.fail(error);
  }

  /** Runs `action` after a backoff delay (or `delayMs`), within the `retries` budget; past it, fails with `RELAY_UNAVAILABLE`. */
  private retryLater(action: () => void, kind: 'reconnect' | 'subscribe', delayMs?: number): void {
    if (this.attempts >= this.retries) {
      this.fail(
        new StreamstraightError('RELAY_UNAVAILABLE', `Gave up on stream "${this.streamId}" after ${this.attempts} retries: ${this.lastFailure?.message ?? 'the relay failed'}`, {
          cause: this.lastFailure,
        }),
      );
      return;
    }
    const delay = delayMs ?? backoffDelay(this.attempts, this.retryBaseMs, this.retryMaxMs);
    this.attempts++;
    this.schedule(action, kind, delay);
  }

  /** Runs `action` after `delayMs` unless the reader ended; a `subscribe` is skipped when the connection changed meanwhile (a new connection subscribes by itself). */
  private schedule(action: () => void, kind: 'reconnect' | 'subscribe', delayMs: number): void {
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.terminal) return;
      if (kind === 'subscribe' && (generation !== this.generation || !this.socket.connected)) return;
      action();
    }, delayMs);
    this.timers.add(timer);
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  private fail(error: StreamstraightError): void {
    if (this.terminal) return;
    this.stop('closed', error);
  }

  /** Tears the connection down once; the consumer still reads what is queued, then `done` or `error`. */
  private stop(status: 'ended' | 'closed', error?: StreamstraightError): void {
    if (this.terminal) return;
    this.terminal = true;
    this.error = error;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.abortCleanup?.();
    this.socket.disconnect();
    this.queue.finish(error);
    this.setStatus(status);
  }

  private setStatus(status: ReaderStatus): void {
    if (this.status === status) return;
    this.status = status;
    const listener = this.onStatus;
    if (!listener) return;
    try {
      listener(status, this as StreamReader<unknown>);
    } catch (error) {
      // A listener's bug must not break the connection's event handling; report it like an event listener would.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
