/**
 * A latency histogram with logarithmic buckets (1 % wide, from 1 µs to about an hour): constant
 * memory however many samples, mergeable across processes, percentiles within 1 %.
 */
const GROWTH = Math.log(1.01);
const BUCKETS = 2200;

/** A histogram's wire form (what a worker sends back). */
export interface HistogramData {
  counts: number[];
  count: number;
  maxUs: number;
}

/** Records latencies in microseconds. */
export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  maxUs = 0;

  /** Adds one sample (µs). */
  record(us: number): void {
    const value = Math.max(1, us);
    const index = Math.min(BUCKETS - 1, Math.ceil(Math.log(value) / GROWTH));
    this.counts[index]! += 1;
    this.count++;
    if (value > this.maxUs) this.maxUs = value;
  }

  /** The value below which `quantile` (0–1) of the samples fall, in µs (NaN when empty). */
  percentile(quantile: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(quantile * this.count);
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(this.maxUs, Math.exp(index * GROWTH));
    }
    return this.maxUs;
  }

  /** Adds another histogram's samples. */
  merge(other: HistogramData): void {
    for (let index = 0; index < BUCKETS; index++) this.counts[index]! += other.counts[index] ?? 0;
    this.count += other.count;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** The wire form. */
  toJSON(): HistogramData {
    return { counts: Array.from(this.counts), count: this.count, maxUs: this.maxUs };
  }

  /** Rebuilds a histogram from its wire form. */
  static from(data: HistogramData): Histogram {
    const histogram = new Histogram();
    histogram.merge(data);
    return histogram;
  }
}

/** Now, on the machine-wide monotonic clock (CLOCK_MONOTONIC), in µs: comparable across processes. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
