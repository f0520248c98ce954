import { Counter, Gauge, type Registry } from 'prom-client';

/** A live HTTP reader, as the metrics see it. */
export interface MeteredReader {
  /** Bytes written for this reader that it has not read yet. */
  queuedBytes(): number;
}

/**
 * Metrics of the relay's HTTP readers, in the relay's registry. Their queued bytes and drops are
 * counted with every other reader's (`ss_relay_reader_queued_bytes`, `ss_relay_limit_refusals_total`).
 */
export class HttpFaceMetrics {
  /** Readers currently connected. */
  readonly readers = new Set<MeteredReader>();
  readonly readersOpened: Counter<'format'>;
  readonly readersDropped: Counter<'reason'>;

  /** @param registry - the relay's registry. */
  constructor(registry: Registry) {
    const readers = this.readers;
    new Gauge({
      name: 'ss_relay_http_readers',
      help: 'HTTP readers (SSE, NDJSON, text) connected to this relay.',
      registers: [registry],
      collect() {
        this.set(readers.size);
      },
    });
    new Gauge({
      name: 'ss_relay_http_reader_queued_bytes',
      help: 'Bytes queued for HTTP readers (the relay\'s queue and the connection\'s unsent bytes), summed over readers at scrape time.',
      registers: [registry],
      collect() {
        let total = 0;
        for (const reader of readers) total += reader.queuedBytes();
        this.set(total);
      },
    });
    this.readersOpened = new Counter({
      name: 'ss_relay_http_readers_opened_total',
      help: 'HTTP readers accepted, by format.',
      labelNames: ['format'] as const,
      registers: [registry],
    });
    this.readersDropped = new Counter({
      name: 'ss_relay_http_readers_dropped_total',
      help: 'HTTP readers dropped because they did not read, by reason (the limit: maxQueuedBytesPerReader or slowReaderTimeoutMs).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
  }
}
