/**
 * One stream written over the relay's HTTP producer: open, batches of chunks with an explicit seq,
 * end. Only `fetch`, `AbortController`, `crypto.randomUUID` and timers: it runs wherever those
 * exist (edge functions, Deno, Bun, browsers' workers, Node).
 *
 * Chunks wait in `pending` until the relay acknowledged them. One request is in flight at a time;
 * what is sent meanwhile goes into the next batch. A request that fails in a way that leaves its
 * outcome unknown (a cut, a timeout, a 5xx) is sent again as it was: the relay drops the part it
 * already holds, so nothing is stored twice.
 */
import { StreamstraightError, errorFromPayload } from '../errors.js';
import { type EndReason, MAX_CHUNKS_PER_FRAME, type StreamInfo, utf8ByteLength } from '../protocol.js';
import type { ChunkEncoder } from '../producer/producer-stream.js';

/** Settings of one {@link HttpStream}. */
export interface HttpStreamSettings {
  baseUrl: string;
  apiKey: string;
  streamId: string;
  encoder: ChunkEncoder;
  overwrite: boolean;
  /** Largest number of unacknowledged chunks; `send()` waits beyond it. */
  windowSize: number;
  /** Largest chunks per request. */
  maxBatchChunks: number;
  /** Largest summed UTF-8 size of the chunks of one request. */
  maxBatchBytes: number;
  maxChunkBytes: number;
  /** A request with no answer for this long is abandoned and sent again. */
  requestTimeoutMs: number;
  /** Failed attempts in a row before the stream fails with `RELAY_UNAVAILABLE`. */
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  fetch: typeof fetch;
  /** Aborted when the stream is found cancelled. */
  controller: AbortController;
  onSettled?: () => void;
}

/** HTTP statuses after which the outcome is unknown or the relay asks to retry. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The state machine of one HTTP-produced stream. */
export class HttpStream {
  readonly streamId: string;
  private readonly settings: HttpStreamSettings;
  private readonly openId = randomId();
  private lease: number | undefined;
  /** The highest seq the relay acknowledged. */
  private ackedSeq = -1;
  /** Encoded chunks `ackedSeq + 1`, `ackedSeq + 2`, … not yet acknowledged. */
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private opened: Promise<void> | undefined;
  private ending: Promise<void> | undefined;
  /** The error that failed the stream. */
  error: StreamstraightError | undefined;
  settled = false;

  constructor(settings: HttpStreamSettings) {
    this.settings = settings;
    this.streamId = settings.streamId;
  }

  get signal(): AbortSignal {
    return this.settings.controller.signal;
  }

  get cancelled(): boolean {
    return this.settings.controller.signal.aborted;
  }

  /** The relay's `lastSeq` for this stream, as last acknowledged. */
  get lastSeq(): number {
    return this.ackedSeq;
  }

  /**
   * Encodes and queues a chunk. Resolves at once while fewer than `windowSize` chunks wait for an
   * acknowledgement, else when there is room; rejects once the stream failed.
   */
  async send(chunk: unknown): Promise<void> {
    if (this.error) throw this.error;
    if (this.settled || this.ending) throw new StreamstraightError('STREAM_ENDED', `Stream "${this.streamId}" was already ended; send() after close() is refused.`);
    const data = this.settings.encoder(chunk);
    if (data === undefined || data === '') return;
    if (typeof data !== 'string') throw new StreamstraightError('BAD_REQUEST', 'The encoder must return a string.');
    const bytes = utf8ByteLength(data);
    if (bytes > this.settings.maxChunkBytes) {
      throw new StreamstraightError('CHUNK_TOO_LARGE', `A chunk of ${bytes} bytes is over the limit of ${this.settings.maxChunkBytes} bytes (maxChunkBytes). Split it.`);
    }
    while (this.pending.length >= this.settings.windowSize && !this.error) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.error) throw this.error;
    this.pending.push(data);
    this.flush();
  }

  /**
   * Sends every queued chunk, then the end. Idempotent; resolves when the relay stored the end.
   * @param reason - why the stream ends.
   */
  end(reason: EndReason): Promise<void> {
    this.ending ??= (async () => {
      try {
        await this.drain();
        if (this.error) throw this.error;
        const finalReason: EndReason = this.cancelled ? 'cancelled' : reason;
        await this.request('end', { lease: await this.leaseNow(), reason: finalReason, lastSeq: this.ackedSeq });
        this.settle();
      } catch (error) {
        this.fail(StreamstraightError.from(error));
        throw this.error;
      }
    })();
    return this.ending;
  }

  /** Fails the stream: queued chunks are dropped, waiting senders get `error`. */
  fail(error: StreamstraightError): void {
    if (this.settled) return;
    this.error ??= error;
    this.pending = [];
    this.settle();
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    for (const resolve of this.waiters.splice(0)) resolve();
    this.settings.onSettled?.();
  }

  /** Resolves once nothing is queued (or the stream failed). */
  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.error) {
      this.flush();
      await this.flushing;
    }
  }

  private flush(): void {
    if (this.flushing || this.error) return;
    this.flushing = (async () => {
      try {
        while (this.pending.length > 0 && !this.error) await this.sendBatch();
      } catch (error) {
        this.fail(StreamstraightError.from(error));
      } finally {
        this.flushing = undefined;
      }
    })();
  }

  /** Opens the stream once (a retried open resumes with the same `openId`). */
  private leaseNow(): Promise<number> {
    this.opened ??= (async () => {
      const result = (await this.request('open', { mode: this.settings.overwrite ? 'overwrite' : 'create', openId: this.openId }, { mode: 'resume', openId: this.openId })) as {
        lease: number;
        info: StreamInfo;
      };
      this.lease = result.lease;
      this.ackedSeq = Math.max(this.ackedSeq, result.info.lastSeq);
    })();
    return this.opened.then(() => this.lease!);
  }

  private async sendBatch(): Promise<void> {
    const lease = await this.leaseNow();
    let bytes = 0;
    let count = 0;
    const limit = Math.min(this.settings.maxBatchChunks, MAX_CHUNKS_PER_FRAME, this.pending.length);
    while (count < limit) {
      const size = utf8ByteLength(this.pending[count]!);
      if (count > 0 && bytes + size > this.settings.maxBatchBytes) break;
      bytes += size;
      count++;
    }
    const seq = this.ackedSeq + 1;
    const data = this.pending.slice(0, count);
    const { lastSeq } = (await this.request('chunks', { lease, seq, data })) as { lastSeq: number };
    const acknowledged = lastSeq - this.ackedSeq;
    if (acknowledged > 0) {
      this.pending.splice(0, acknowledged);
      this.ackedSeq = lastSeq;
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  /**
   * POSTs `body` to the stream's `route`, retrying when the outcome is unknown. A retry of `open`
   * sends `retryBody` (a resume with the same `openId`: the first open may have been stored).
   */
  private async request(route: 'open' | 'chunks' | 'end', body: object, retryBody: object = body): Promise<unknown> {
    const url = `${this.settings.baseUrl.replace(/\/+$/, '')}/v1/streams/${encodeURIComponent(this.streamId)}/${route}`;
    let lastFailure: StreamstraightError | undefined;
    for (let attempt = 0; attempt <= this.settings.retries; attempt++) {
      if (attempt > 0) await sleep(lastFailure?.retryInMs ?? backoffDelay(attempt - 1, this.settings.retryBaseMs, this.settings.retryMaxMs));
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), this.settings.requestTimeoutMs);
      let response: Response;
      let payload: unknown;
      try {
        response = await this.settings.fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.settings.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify(attempt === 0 ? body : retryBody),
          signal: timeout.signal,
        });
        payload = await response.json().catch(() => undefined);
      } catch (cause) {
        lastFailure = new StreamstraightError('RELAY_UNAVAILABLE', `POST ${route} for stream "${this.streamId}" got no answer: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (response.ok) return payload;
      const error = errorFromPayload((payload as { error?: unknown } | undefined)?.error ?? { code: 'INTERNAL', message: `HTTP ${response.status}` });
      if (RETRYABLE_STATUS.has(response.status)) {
        lastFailure = error;
        continue;
      }
      if (error.code === 'STREAM_ENDED' && route !== 'end') await this.checkCancelled();
      throw error;
    }
    throw new StreamstraightError('RELAY_UNAVAILABLE', `Gave up on stream "${this.streamId}" after ${this.settings.retries + 1} attempts: ${lastFailure?.message ?? 'no answer'}`, {
      cause: lastFailure,
    });
  }

  /** A stream ended by someone else: when a reader cancelled it, abort the signal. */
  private async checkCancelled(): Promise<void> {
    try {
      const response = await this.settings.fetch(`${this.settings.baseUrl.replace(/\/+$/, '')}/v1/streams/${encodeURIComponent(this.streamId)}`, {
        headers: { authorization: `Bearer ${this.settings.apiKey}` },
      });
      const info = (await response.json()) as StreamInfo;
      if (info.endReason === 'cancelled') {
        this.settings.controller.abort(new StreamstraightError('STREAM_CANCELLED', `Stream "${this.streamId}" was cancelled by a reader.`));
      }
    } catch {
      // the STREAM_ENDED error is reported either way
    }
  }
}
