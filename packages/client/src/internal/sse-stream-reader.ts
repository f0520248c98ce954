import { type EndReason, StreamstraightError, errorFromPayload, isEndReason } from '@ss/core/protocol';
import { type EventSourceMessage, createParser } from 'eventsource-parser';
import type { ReaderStatus, StreamOptions, StreamReader, StreamstraightClientOptions } from '../streamstraight-client.js';
import { backoffDelay } from './backoff.js';
import { ChunkQueue } from './chunk-queue.js';
import { NORMAL_ENDS, asyncDispose, endError, isRecord, isSeq, nonNegative } from './reader-common.js';
import { isRetryableCode } from './relay-error.js';
import { resolveBaseUrl } from './relay-url.js';
import { Sequencer } from './sequencer.js';
import { TokenSource } from './token-source.js';

const DEFAULT_RETRY_BASE_MS = 500;
const DEFAULT_RETRY_MAX_MS = 10_000;

/**
 * The reader over Server-Sent Events (`GET /v1/streams/:id/events`), with `fetch` and
 * `eventsource-parser`: the token goes in the `Authorization` header (never in the URL), and each
 * (re)connect asks for `?fromSeq=` the next chunk not yet received, so nothing is read twice. The
 * same queue, sequencer, token source and retry policy as the Socket.IO reader.
 */
export class SseStreamReader<T> implements StreamReader<T> {
  readonly streamId: string;
  lastSeq: number;
  status: ReaderStatus = 'connecting';
  endReason: EndReason | undefined;
  error: StreamstraightError | undefined;

  private readonly tokens: TokenSource;
  private readonly decoder: (data: string) => T;
  private readonly queue = new ChunkQueue<string>();
  private readonly sequencer: Sequencer;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly waitForStreamMs: number;
  private readonly onStatus: StreamOptions['onStatus'];
  private readonly eventsUrl: string;
  private readonly cancelUrl: string;
  private readonly fetchFunction: typeof fetch;
  private readonly abortCleanup: (() => void) | undefined;
  private connection: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private knownEnd: { reason: EndReason; lastSeq: number } | undefined;
  private terminal = false;
  private everLive = false;
  private refreshedAfterRefusal = false;
  private attempts = 0;
  private notFoundSince: number | undefined;

  constructor(options: StreamstraightClientOptions<T>, stream: StreamOptions) {
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
    this.waitForStreamMs = nonNegative(stream.waitForStreamMs, 0, 'waitForStreamMs');
    this.onStatus = stream.onStatus;
    const base = resolveBaseUrl(options.baseUrl).replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
    this.eventsUrl = `${base}/v1/streams/${encodeURIComponent(this.streamId)}/events`;
    this.cancelUrl = `${base}/v1/streams/${encodeURIComponent(this.streamId)}/cancel`;
    const fetchFunction = options.fetch ?? globalThis.fetch;
    if (typeof fetchFunction !== 'function') throw new StreamstraightError('BAD_REQUEST', "This runtime has no fetch: the 'sse' transport needs one (or pass `fetch`).");
    this.fetchFunction = (input, init) => fetchFunction(input, init);

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
    void this.connect();
  }

  // -------------------------------------------------------------------------------------------
  // Consumer side (the same contract as the Socket.IO reader)

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.queue.size > 0) {
      try {
        return Promise.resolve(this.deliver(this.queue.shift()));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.queue.next().then((result) => (result.done ? result : this.deliver(result.value)));
  }

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
      this.stop('closed', error);
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

  /** Asks the producer to stop the stream (`POST /v1/streams/:id/cancel`; the token needs the cancel scope). */
  async cancel(reason?: string): Promise<void> {
    if (this.terminal) return;
    const token = await this.tokens.get();
    let response: Response;
    try {
      response = await this.fetchFunction(this.cancelUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(reason === undefined ? {} : { reason }),
      });
    } catch (cause) {
      throw new StreamstraightError('RELAY_UNAVAILABLE', `The cancel of stream "${this.streamId}" did not reach the relay: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const payload = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
    throw errorFromPayload(payload?.error ?? { code: 'INTERNAL', message: `HTTP ${response.status}` });
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  private async connect(): Promise<void> {
    if (this.terminal) return;
    const connection = new AbortController();
    this.connection = connection;
    let token: string;
    try {
      token = await this.tokens.get();
    } catch (cause) {
      const error = StreamstraightError.isInstance(cause)
        ? cause
        : new StreamstraightError('UNAUTHORIZED', `fetchToken failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      if (StreamstraightError.isInstance(cause) && !isRetryableCode(cause.code)) this.fail(error);
      else this.retryLater(error);
      return;
    }
    if (this.terminal || connection.signal.aborted) return;
    let response: Response;
    try {
      response = await this.fetchFunction(`${this.eventsUrl}?fromSeq=${this.sequencer.nextSeq}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
        signal: connection.signal,
        cache: 'no-store',
      });
    } catch (cause) {
      if (this.terminal || connection.signal.aborted) return;
      this.retryLater(new StreamstraightError('RELAY_UNAVAILABLE', `Could not reach the relay at ${this.eventsUrl}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }));
      return;
    }
    if (response.status !== 200 || response.body === null) {
      const payload = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
      const error =
        response.status === 204
          ? new StreamstraightError('STREAM_NOT_FOUND', `The relay has nothing after chunk ${this.sequencer.receivedSeq} of stream "${this.streamId}".`)
          : errorFromPayload(payload?.error ?? { code: response.status >= 500 ? 'RELAY_UNAVAILABLE' : 'INTERNAL', message: `HTTP ${response.status}` });
      this.handleRelayError(error, 'subscribe');
      return;
    }
    this.onOpen();
    await this.readEvents(response.body, connection);
  }

  private onOpen(): void {
    this.attempts = 0;
    this.notFoundSince = undefined;
    this.refreshedAfterRefusal = false;
    this.everLive = true;
    this.setStatus('live');
  }

  private async readEvents(body: ReadableStream<Uint8Array>, connection: AbortController): Promise<void> {
    const parser = createParser({ onEvent: (event) => this.onEvent(event) });
    const textDecoder = new TextDecoder();
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.terminal) break;
        parser.feed(textDecoder.decode(value, { stream: true }));
        if (this.terminal || connection.signal.aborted) break;
      }
    } catch {
      // a cut: reconnect below
    } finally {
      reader.cancel().catch(() => {});
    }
    if (this.terminal || connection.signal.aborted) return;
    // The response ended without the end event: the connection was cut. Resume at the next chunk.
    this.setStatus('resuming');
    this.schedule(() => void this.connect(), backoffDelay(0, Math.min(this.retryBaseMs, 250), this.retryMaxMs));
  }

  private onEvent(event: EventSourceMessage): void {
    if (this.terminal) return;
    if (event.event === 'end') {
      let end: unknown;
      try {
        end = JSON.parse(event.data);
      } catch {
        end = undefined;
      }
      if (!isRecord(end) || !isEndReason(end.reason) || !(isSeq(end.lastSeq) || end.lastSeq === -1)) {
        this.fail(new StreamstraightError('INTERNAL', `The relay sent a malformed end event for "${this.streamId}".`));
        return;
      }
      this.knownEnd = { reason: end.reason, lastSeq: end.lastSeq };
      if (!this.finishIfComplete()) this.restart(); // chunks before the end are missing: fetch them
      return;
    }
    if (event.event === 'stream-error') {
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        payload = undefined;
      }
      this.handleRelayError(errorFromPayload(payload), 'stream');
      return;
    }
    if (event.event !== undefined && event.event !== 'message') return;
    const seq = Number(event.id);
    if (!isSeq(seq)) return;
    const verdict = this.sequencer.accept(seq, [event.data]);
    if (verdict.kind === 'append') {
      this.queue.push(verdict.data);
      this.finishIfComplete();
    } else if (verdict.kind === 'gap') this.restart();
  }

  /** Drops the current connection and reads again from the next missing chunk. */
  private restart(): void {
    this.connection?.abort();
    this.schedule(() => void this.connect(), 0);
  }

  private finishIfComplete(): boolean {
    const end = this.knownEnd;
    if (!end || this.sequencer.receivedSeq < end.lastSeq) return false;
    this.endReason = end.reason;
    this.stop('ended', NORMAL_ENDS.has(end.reason) ? undefined : endError(this.streamId, end.reason, end.lastSeq));
    return true;
  }

  /** The Socket.IO reader's policy: refresh the token once, wait for the stream, retry transient failures, or fail. */
  private handleRelayError(error: StreamstraightError, during: 'subscribe' | 'stream'): void {
    this.connection?.abort();
    if (error.code === 'UNAUTHORIZED' && this.tokens.canRefresh && !this.refreshedAfterRefusal) {
      this.refreshedAfterRefusal = true;
      this.tokens.invalidate();
      this.schedule(() => void this.connect(), 0);
      return;
    }
    if (error.code === 'STREAM_NOT_FOUND' && during === 'subscribe' && this.waitForStreamMs > 0) {
      const now = Date.now();
      this.notFoundSince ??= now;
      const remaining = this.waitForStreamMs - (now - this.notFoundSince);
      if (remaining > 0) {
        this.setStatus(this.everLive ? 'resuming' : 'connecting');
        this.schedule(() => void this.connect(), Math.min(remaining, backoffDelay(0, this.retryBaseMs, this.retryMaxMs)));
        return;
      }
    }
    if (isRetryableCode(error.code)) {
      this.retryLater(error);
      return;
    }
    this.fail(error);
  }

  private retryLater(error: StreamstraightError): void {
    if (this.attempts >= this.retries) {
      this.fail(
        new StreamstraightError('RELAY_UNAVAILABLE', `Gave up on stream "${this.streamId}" after ${this.attempts} retries: ${error.message}`, { cause: error }),
      );
      return;
    }
    this.setStatus(this.everLive ? 'resuming' : 'connecting');
    const delay = error.retryInMs ?? backoffDelay(this.attempts, this.retryBaseMs, this.retryMaxMs);
    this.attempts++;
    this.schedule(() => void this.connect(), delay);
  }

  private schedule(action: () => void, delayMs: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.terminal) action();
    }, delayMs);
  }

  // -------------------------------------------------------------------------------------------
  // Ending

  private fail(error: StreamstraightError): void {
    if (this.terminal) return;
    this.stop('closed', error);
  }

  private stop(status: 'ended' | 'closed', error?: StreamstraightError): void {
    if (this.terminal) return;
    this.terminal = true;
    this.error = error;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.abortCleanup?.();
    this.connection?.abort();
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
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
