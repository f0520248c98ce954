import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { RelayMetrics } from './relay-metrics.js';

/**
 * Watches the event loop's delay, one second at a time: the relay is saturated while the 99th
 * percentile of the last second is above `thresholdMs` (it cannot keep up with its fan-out, and
 * everything it serves waits). Reported in `/healthz` and in `ss_relay_saturated`,
 * `ss_relay_saturated_seconds_total` and `ss_relay_event_loop_delay_p99_seconds`.
 */
export class SaturationMonitor {
  /** Whether the last second was saturated. */
  saturated = false;
  /** p99 of the event loop delay over the last second, in ms. */
  delayP99Ms = 0;
  private readonly histogram: IntervalHistogram;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly thresholdMs: number,
    private readonly metrics: RelayMetrics,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  /** Stops watching. */
  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private sample(): void {
    this.delayP99Ms = this.histogram.percentile(99) / 1e6;
    this.histogram.reset();
    this.saturated = this.thresholdMs > 0 && this.delayP99Ms > this.thresholdMs;
    this.metrics.eventLoopDelayP99Seconds = this.delayP99Ms / 1000;
    this.metrics.saturated = this.saturated;
    if (this.saturated) this.metrics.saturatedSeconds.inc();
  }
}
