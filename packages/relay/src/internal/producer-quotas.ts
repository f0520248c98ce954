import { createHash } from 'node:crypto';
import { StreamstraightError } from '@ss/core/protocol';
import type { RelayLimits } from '../relay-limits.js';

/** The quotas producers are held to. */
export type ProducerQuotaLimits = Pick<
  RelayLimits,
  'maxOpenStreamsPerConnection' | 'maxOpenStreamsPerKey' | 'maxStreamBytes' | 'maxStoredBytesPerKey' | 'maxChunksPerSecondPerConnection'
>;

/** How often expired streams leave the byte ledger. */
const LEDGER_SWEEP_MS = 10_000;

/**
 * A short, stable id of an API key for quota accounting (never the key itself): the first 16
 * hex digits of its SHA-256.
 * @param apiKey - the key a producer authenticated with.
 * @returns its id.
 */
export function apiKeyId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}

function quotaExceeded(name: keyof ProducerQuotaLimits, limit: number, message: string, retryInMs?: number): StreamstraightError {
  return new StreamstraightError('QUOTA_EXCEEDED', message, retryInMs === undefined ? { quota: { name, limit } } : { quota: { name, limit }, retryInMs });
}

interface LedgerEntry {
  keyId: string;
  /** Bytes (UTF-16 units: bytes for ASCII) of the chunks stored through this relay. */
  bytes: number;
  /** The highest seq counted: a resend below it is not counted twice. */
  lastSeq: number;
  /** The store drops the stream `ttlMs` after its last write; so does the ledger. */
  expiresAt: number;
}

/**
 * Producer quotas, counted by this relay: open streams per connection (the caller's lease count)
 * and per API key, stored bytes per stream and per key (a ledger of what was appended through
 * this relay, dropped with the stream's retention), and chunks per second per connection (a token
 * bucket). A refusal is `QUOTA_EXCEEDED` naming the quota and its limit; it only ever refuses the
 * key (or connection) that is over, never another one. A limit of 0 turns that quota off.
 */
export class ProducerQuotas {
  private readonly openByKey = new Map<string, number>();
  private readonly bytesByKey = new Map<string, number>();
  private readonly ledger = new Map<string, LedgerEntry>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly limits: ProducerQuotaLimits,
    private readonly ttlMs: number,
  ) {
    this.timer = setInterval(() => this.sweep(), Math.min(LEDGER_SWEEP_MS, Math.max(10, ttlMs))).unref();
  }

  /** Stops the ledger's sweep. */
  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Before a connection takes one more stream.
   * @param keyId - the connection's API key id.
   * @param heldByConnection - streams the connection holds open now.
   */
  checkOpen(keyId: string, heldByConnection: number): void {
    const { maxOpenStreamsPerConnection: perConnection, maxOpenStreamsPerKey: perKey } = this.limits;
    if (perConnection > 0 && heldByConnection >= perConnection) {
      throw this.refuse('maxOpenStreamsPerConnection', perConnection, `This connection holds ${heldByConnection} open streams, the most one producer connection may (maxOpenStreamsPerConnection = ${perConnection}). End some first.`);
    }
    const byKey = this.openByKey.get(keyId) ?? 0;
    if (perKey > 0 && byKey >= perKey) {
      throw this.refuse('maxOpenStreamsPerKey', perKey, `This API key holds ${byKey} open streams on this relay, the most one key may (maxOpenStreamsPerKey = ${perKey}). End some first.`);
    }
  }

  /** A connection with `keyId` took one more stream. */
  opened(keyId: string): void {
    this.openByKey.set(keyId, (this.openByKey.get(keyId) ?? 0) + 1);
  }

  /** A stream taken with `keyId` was ended, taken over, or abandoned for good. */
  released(keyId: string): void {
    const left = (this.openByKey.get(keyId) ?? 1) - 1;
    if (left > 0) this.openByKey.set(keyId, left);
    else this.openByKey.delete(keyId);
  }

  /**
   * After a stream was opened: starts (or keeps) its byte count.
   * @param fresh - the open created or replaced the stream (its count restarts at 0).
   */
  track(keyId: string, streamId: string, lastSeq: number, fresh: boolean): void {
    const entry = this.ledger.get(streamId);
    if (entry && !fresh) {
      entry.expiresAt = Date.now() + this.ttlMs;
      return;
    }
    if (entry) this.forget(streamId, entry);
    this.ledger.set(streamId, { keyId, bytes: 0, lastSeq, expiresAt: Date.now() + this.ttlMs });
  }

  /**
   * Before an append: refuses it past the stream's or the key's stored bytes.
   * @returns the bytes it adds (chunks above the highest seq counted), for {@link appended}.
   */
  checkAppend(keyId: string, streamId: string, seq: number, data: readonly string[]): number {
    const entry = this.ledger.get(streamId);
    let adds = 0;
    const skip = entry ? Math.max(0, entry.lastSeq + 1 - seq) : 0;
    for (let index = skip; index < data.length; index++) adds += data[index]!.length;
    if (adds === 0) return 0;
    const { maxStreamBytes, maxStoredBytesPerKey } = this.limits;
    const streamBytes = (entry?.bytes ?? 0) + adds;
    if (maxStreamBytes > 0 && streamBytes > maxStreamBytes) {
      throw this.refuse('maxStreamBytes', maxStreamBytes, `Stream "${streamId}" would hold ${streamBytes} bytes, over the limit of ${maxStreamBytes} (maxStreamBytes). End it and start a new stream.`);
    }
    const keyBytes = (this.bytesByKey.get(keyId) ?? 0) + adds;
    if (maxStoredBytesPerKey > 0 && keyBytes > maxStoredBytesPerKey) {
      throw this.refuse('maxStoredBytesPerKey', maxStoredBytesPerKey, `This API key's streams would hold ${keyBytes} bytes on this relay, over the limit of ${maxStoredBytesPerKey} (maxStoredBytesPerKey). Stored streams free their bytes when they expire.`);
    }
    return adds;
  }

  /** After an append the store holds: counts its bytes. */
  appended(keyId: string, streamId: string, lastSeq: number, bytes: number): void {
    let entry = this.ledger.get(streamId);
    if (!entry) {
      entry = { keyId, bytes: 0, lastSeq: -1, expiresAt: 0 };
      this.ledger.set(streamId, entry);
    }
    entry.expiresAt = Date.now() + this.ttlMs;
    entry.lastSeq = Math.max(entry.lastSeq, lastSeq);
    if (bytes === 0) return;
    entry.bytes += bytes;
    this.bytesByKey.set(entry.keyId, (this.bytesByKey.get(entry.keyId) ?? 0) + bytes);
  }

  /**
   * A chunks-per-second budget for one connection (a token bucket holding one second's worth).
   * @returns `take(count)`, which throws `QUOTA_EXCEEDED` with `retryInMs` when the bucket is short.
   */
  chunkRate(): (count: number) => void {
    const rate = this.limits.maxChunksPerSecondPerConnection;
    if (rate <= 0) return () => {};
    let tokens = rate;
    let refilledAt = Date.now();
    return (count) => {
      const now = Date.now();
      tokens = Math.min(rate, tokens + ((now - refilledAt) * rate) / 1000);
      refilledAt = now;
      // A frame larger than the whole bucket goes through when the bucket is full, leaving a debt.
      if (tokens >= Math.min(count, rate)) {
        tokens -= count;
        return;
      }
      const retryInMs = Math.ceil(((Math.min(count, rate) - tokens) * 1000) / rate);
      throw this.refuse('maxChunksPerSecondPerConnection', rate, `This connection sends more than ${rate} chunks per second (maxChunksPerSecondPerConnection). Retry in ${retryInMs} ms.`, retryInMs);
    };
  }

  /** Counted in `ss_relay_limit_refusals_total` when it is answered (`toErrorPayload`). */
  private refuse(name: keyof ProducerQuotaLimits, limit: number, message: string, retryInMs?: number): StreamstraightError {
    return quotaExceeded(name, limit, message, retryInMs);
  }

  private forget(streamId: string, entry: LedgerEntry): void {
    this.ledger.delete(streamId);
    const left = (this.bytesByKey.get(entry.keyId) ?? 0) - entry.bytes;
    if (left > 0) this.bytesByKey.set(entry.keyId, left);
    else this.bytesByKey.delete(entry.keyId);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [streamId, entry] of this.ledger) if (entry.expiresAt <= now) this.forget(streamId, entry);
  }
}

/**
 * One token bucket per key (an API key id, say) holding one second's worth of `ratePerSecond`.
 * Keys are few (the configured API keys), so the table stays small.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; refilledAt: number }>();

  constructor(private readonly ratePerSecond: number) {}

  /**
   * Takes one token for `key`.
   * @returns `undefined` when there was one, else how many ms until there is. Always `undefined` when the rate is 0 (off).
   */
  take(key: string): number | undefined {
    const rate = this.ratePerSecond;
    if (rate <= 0) return undefined;
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: rate, refilledAt: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.refilledAt) * rate) / 1000);
    bucket.refilledAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / rate);
  }
}
