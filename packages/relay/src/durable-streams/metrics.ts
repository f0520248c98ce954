import { Counter, Gauge, type Registry } from 'prom-client';

/** The Durable Streams face's Prometheus metrics, registered in the relay's registry. */
export class DurableStreamsMetrics {
  readonly requests: Counter<'method' | 'status'>;
  readonly readersDropped: Counter;
  readonly liveReaders: Gauge<'mode'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'ss_relay_ds_requests_total',
      help: 'Durable Streams requests answered, by method and status.',
      labelNames: ['method', 'status'] as const,
      registers: [registry],
    });
    this.readersDropped = new Counter({
      name: 'ss_relay_ds_readers_dropped_total',
      help: 'Durable Streams SSE readers dropped because they stopped reading (more than maxReaderBufferBytes waiting).',
      registers: [registry],
    });
    this.liveReaders = new Gauge({
      name: 'ss_relay_ds_live_readers',
      help: 'Durable Streams long-polls and SSE connections waiting for data, by mode.',
      labelNames: ['mode'] as const,
      registers: [registry],
    });
  }
}
