import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The relay's Prometheus metrics, in a registry of its own (several relays in one process, as in
 * tests, never clash). Counters are bumped per frame, not per chunk, to stay off the hot path.
 */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly chunksStored = new Counter({
    name: 'ss_relay_chunks_received_total',
    help: 'Chunks received from producers and acknowledged after the store held them (resends included).',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'ss_relay_errors_total',
    help: 'Typed errors answered to clients, by code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly appendSeconds = new Histogram({
    name: 'ss_relay_store_append_seconds',
    help: 'Time the store took to hold a producer frame (the part of the ack latency the relay adds).',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly streamsEnded = new Counter({
    name: 'ss_relay_streams_ended_total',
    help: 'Streams ended through this relay, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly limitRefusals = new Counter({
    name: 'ss_relay_limit_refusals_total',
    help: 'Requests or connections refused, and readers dropped, because a limit was reached, by limit (the option name).',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly readerQueuedBytes = new Histogram({
    name: 'ss_relay_reader_queued_bytes',
    help: 'Bytes queued for each reader connection (our buffers and the transport\'s), sampled about once a second per reader.',
    buckets: [0, 1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 16 * 1024 * 1024],
    registers: [this.registry],
  });
  readonly readersPaced = new Counter({
    name: 'ss_relay_readers_paced_total',
    help: 'Times a live reader fell behind (its queue passed half of maxQueuedBytesPerReader, or a frame was too large to broadcast) and was moved to reads paced by its drain.',
    registers: [this.registry],
  });
  /** Sum of every reader's queued bytes at the last sample; read by the gauge at scrape time. */
  queuedBytesTotal = 0;
  readonly saturatedSeconds = new Counter({
    name: 'ss_relay_saturated_seconds_total',
    help: 'Seconds during which the event loop delay p99 was above saturationDelayMs: the relay could not keep up with its work (fan-out, most likely).',
    registers: [this.registry],
  });
  /** Set each second by the saturation monitor. */
  saturated = false;
  eventLoopDelayP99Seconds = 0;

  /**
   * @param gauges - live values read at scrape time: connections by role and streams with readers.
   */
  constructor(gauges: { connections: () => { producer: number; consumer: number }; streamsWithReaders: () => number }) {
    new Gauge({
      name: 'ss_relay_connections',
      help: 'Open Socket.IO connections, by role.',
      labelNames: ['role'] as const,
      registers: [this.registry],
      collect() {
        const counts = gauges.connections();
        this.set({ role: 'producer' }, counts.producer);
        this.set({ role: 'consumer' }, counts.consumer);
      },
    });
    new Gauge({
      name: 'ss_relay_streams_with_readers',
      help: 'Streams with at least one reader on this relay.',
      registers: [this.registry],
      collect() {
        this.set(gauges.streamsWithReaders());
      },
    });
    const metrics = this;
    new Gauge({
      name: 'ss_relay_readers_queued_bytes',
      help: 'Bytes queued for all reader connections together, at the last sample.',
      registers: [this.registry],
      collect() {
        this.set(metrics.queuedBytesTotal);
      },
    });
    new Gauge({
      name: 'ss_relay_saturated',
      help: '1 while the relay is saturated (event loop delay p99 over the last second above saturationDelayMs), else 0.',
      registers: [this.registry],
      collect() {
        this.set(metrics.saturated ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ss_relay_event_loop_delay_p99_seconds',
      help: '99th percentile of the event loop delay over the last second.',
      registers: [this.registry],
      collect() {
        this.set(metrics.eventLoopDelayP99Seconds);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'ss_relay_' });
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
