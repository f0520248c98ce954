/** The shape of `results/<date>.json`, and the medians, ratios and target verdicts derived from runs. */
import { median } from './lib/stats.js';
import type { Scenario } from './scenarios/scenario.js';
import type { SystemId } from './systems.js';

/** One row's runs. */
export interface RowResult {
  scenario: string;
  system: SystemId;
  label: string;
  variant: string;
  runs: Array<Record<string, number> | { error: string }>;
  median: Record<string, number>;
}

/** A ratio between two rows, taken within each run, then the median. */
export interface Comparison {
  name: string;
  scenario: string;
  variant: string;
  metric: string;
  numerator: SystemId;
  denominator: SystemId;
  perRun: number[];
  median: number;
}

/** A target of the issue and whether it is met. */
export interface TargetResult {
  name: string;
  value: number;
  unit: string;
  limit: number;
  comparison: '≥' | '≤';
  /** null: not measured, or measured with saturated load generators (see `why`). */
  met: boolean | null;
  why?: string;
}

/** Everything one `pnpm bench` invocation measured. */
export interface BenchResults {
  date: string;
  command: string;
  mode: string;
  runs: number;
  machine: { nproc: number; cpu: string; node: string; platform: string; loadBefore: string; loadAfter: string; memoryGb: number; pinning?: string; readers?: string };
  durationSeconds: number;
  scenarios: Array<{ id: string; title: string; description: string; columns: Scenario['columns']; notApplicable: Record<string, string> }>;
  rows: RowResult[];
  comparisons: Comparison[];
  targets: TargetResult[];
  unavailable: Record<string, string>;
}

/** Medians of every numeric metric over the successful runs. */
export function medians(runs: RowResult['runs']): Record<string, number> {
  const ok = runs.filter((run): run is Record<string, number> => !('error' in run));
  const keys = new Set(ok.flatMap((run) => Object.keys(run)));
  const result: Record<string, number> = {};
  for (const key of keys) result[key] = median(ok.map((run) => run[key] ?? Number.NaN));
  return result;
}

function find(rows: RowResult[], scenario: string, system: SystemId, variant: string): RowResult | undefined {
  return rows.find((row) => row.scenario === scenario && row.system === system && row.variant === variant);
}

const COMPARISONS: Array<Omit<Comparison, 'perRun' | 'median'>> = [
  { name: 'ingest, 1,000 streams: ss-relay (memory) ÷ Durable Streams', scenario: 'ingest', variant: '1000 streams', metric: 'ackedPerSec', numerator: 'relay-memory', denominator: 'durable-streams' },
  { name: 'ingest, 100 streams: ss-relay (memory) ÷ Durable Streams', scenario: 'ingest', variant: '100 streams', metric: 'ackedPerSec', numerator: 'relay-memory', denominator: 'durable-streams' },
  { name: 'ingest, 1,000 streams: Socket.IO 64/emit floor ÷ ss-relay (memory)', scenario: 'ingest', variant: '1000 streams', metric: 'ackedPerSec', numerator: 'socketio-64', denominator: 'relay-memory' },
  { name: 'ingest, 100 streams: Socket.IO 64/emit floor ÷ ss-relay (memory)', scenario: 'ingest', variant: '100 streams', metric: 'ackedPerSec', numerator: 'socketio-64', denominator: 'relay-memory' },
  { name: 'ingest, 1,000 streams: ss-relay (Redis) ÷ Redis XADD floor', scenario: 'ingest', variant: '1000 streams', metric: 'ackedPerSec', numerator: 'relay-redis', denominator: 'redis-xadd' },
  { name: 'live p99: Durable Streams ÷ ss-relay (memory)', scenario: 'live', variant: '', metric: 'p99Ms', numerator: 'durable-streams', denominator: 'relay-memory' },
  { name: 'live p99: resumable-stream ÷ ss-relay (memory)', scenario: 'live', variant: '', metric: 'p99Ms', numerator: 'resumable-stream', denominator: 'relay-memory' },
  { name: 'live p99: resumable-stream ÷ ss-relay (Redis)', scenario: 'live', variant: '', metric: 'p99Ms', numerator: 'resumable-stream', denominator: 'relay-redis' },
  { name: 'live p99: resumable-stream (HTTP SSE route) ÷ ss-relay (Redis)', scenario: 'live', variant: '', metric: 'p99Ms', numerator: 'resumable-stream-http', denominator: 'relay-redis' },
  { name: 'live p50: ss-relay ×2 (read on the other relay) ÷ ss-relay (Redis)', scenario: 'live', variant: '', metric: 'p50Ms', numerator: 'relay-redis-2', denominator: 'relay-redis' },
  { name: 'live p99: ss-relay ×2 (read on the other relay) ÷ ss-relay (Redis)', scenario: 'live', variant: '', metric: 'p99Ms', numerator: 'relay-redis-2', denominator: 'relay-redis' },
  { name: 'fan-out p99: Durable Streams ÷ ss-relay (memory)', scenario: 'fan-out', variant: '', metric: 'p99Ms', numerator: 'durable-streams', denominator: 'relay-memory' },
  { name: 'fan-out p99: resumable-stream ÷ ss-relay (Redis)', scenario: 'fan-out', variant: '', metric: 'p99Ms', numerator: 'resumable-stream', denominator: 'relay-redis' },
  { name: 'fan-out p99: resumable-stream (HTTP SSE route) ÷ ss-relay (Redis)', scenario: 'fan-out', variant: '', metric: 'p99Ms', numerator: 'resumable-stream-http', denominator: 'relay-redis' },
  { name: 'catch-up: Durable Streams ÷ ss-relay (memory)', scenario: 'catch-up', variant: '', metric: 'allMs', numerator: 'durable-streams', denominator: 'relay-memory' },
];

/** Ratios within each run (run i of one row against run i of the other), then their median. */
export function compare(rows: RowResult[]): Comparison[] {
  const comparisons: Comparison[] = [];
  for (const spec of COMPARISONS) {
    const top = find(rows, spec.scenario, spec.numerator, spec.variant);
    const bottom = find(rows, spec.scenario, spec.denominator, spec.variant);
    if (!top || !bottom) continue;
    const perRun: number[] = [];
    for (let run = 0; run < Math.min(top.runs.length, bottom.runs.length); run++) {
      const a = top.runs[run]!;
      const b = bottom.runs[run]!;
      if ('error' in a || 'error' in b) continue;
      perRun.push((a[spec.metric] ?? Number.NaN) / (b[spec.metric] ?? Number.NaN));
    }
    comparisons.push({ ...spec, perRun, median: median(perRun) });
  }
  return comparisons;
}

/** A target on one row's median, or on a ratio of {@link COMPARISONS} (`comparison` names it). */
type Target = { name: string; unit: string; comparison: '≥' | '≤'; limit: number } & (
  | { scenario: string; system: SystemId; variant: string; metric: string }
  | { ratio: string }
);

const TARGETS: Target[] = [
  { name: 'ingest, memory, 1,000 streams', scenario: 'ingest', system: 'relay-memory', variant: '1000 streams', metric: 'ackedPerSec', unit: 'chunks/s', comparison: '≥', limit: 150_000 },
  { name: 'ingest, memory, 100 streams', scenario: 'ingest', system: 'relay-memory', variant: '100 streams', metric: 'ackedPerSec', unit: 'chunks/s', comparison: '≥', limit: 250_000 },
  { name: 'ingest, Redis, 1,000 streams', scenario: 'ingest', system: 'relay-redis', variant: '1000 streams', metric: 'ackedPerSec', unit: 'chunks/s', comparison: '≥', limit: 100_000 },
  { name: 'ingest, 1,000 streams: batched Socket.IO floor ÷ ss-relay', ratio: 'ingest, 1,000 streams: Socket.IO 64/emit floor ÷ ss-relay (memory)', unit: '×', comparison: '≤', limit: 1.3 },
  { name: 'live p99, memory', scenario: 'live', system: 'relay-memory', variant: '', metric: 'p99Ms', unit: 'ms', comparison: '≤', limit: 10 },
  { name: 'live p99, Redis', scenario: 'live', system: 'relay-redis', variant: '', metric: 'p99Ms', unit: 'ms', comparison: '≤', limit: 20 },
  { name: 'live p50, Redis', scenario: 'live', system: 'relay-redis', variant: '', metric: 'p50Ms', unit: 'ms', comparison: '≤', limit: 3 },
  { name: 'live, relay CPU per chunk (ingest + one delivery), memory', scenario: 'live', system: 'relay-memory', variant: '', metric: 'cpuUsPerChunk', unit: 'µs', comparison: '≤', limit: 10 },
  { name: 'fan-out p99, memory', scenario: 'fan-out', system: 'relay-memory', variant: '', metric: 'p99Ms', unit: 'ms', comparison: '≤', limit: 25 },
  { name: 'fan-out, relay CPU per delivery, memory', scenario: 'fan-out', system: 'relay-memory', variant: '', metric: 'cpuUsPerChunk', unit: 'µs', comparison: '≤', limit: 4 },
  { name: 'catch-up, 50 readers × 10,000', scenario: 'catch-up', system: 'relay-memory', variant: '', metric: 'allMs', unit: 'ms', comparison: '≤', limit: 200 },
  { name: 'resume at 9,000 → first chunk', scenario: 'catch-up', system: 'relay-memory', variant: '', metric: 'resumeFirstChunkMs', unit: 'ms', comparison: '≤', limit: 5 },
  { name: 'idle stream resident memory', scenario: 'idle', system: 'relay-memory', variant: '', metric: 'bytesPerStream', unit: 'bytes', comparison: '≤', limit: 2048 },
  { name: 'warm start → first ack, in round trips', scenario: 'start', system: 'relay-memory', variant: '', metric: 'warmRoundTrips', unit: 'round trips', comparison: '≤', limit: 1.2 },
];

/** Whether the load generators were saturated in most of a row's runs (its latency is then theirs, not the server's). */
export function generatorSaturated(row: RowResult): boolean {
  return (row.median.generatorSaturated ?? 0) >= 0.5;
}

/** Checks the targets against the medians (and the ratios in `comparisons`). */
export function checkTargets(rows: RowResult[], comparisons: Comparison[] = compare(rows)): TargetResult[] {
  const results: TargetResult[] = [];
  for (const target of TARGETS) {
    let value: number;
    let why: string | undefined;
    if ('ratio' in target) {
      const comparison = comparisons.find((candidate) => candidate.name === target.ratio);
      if (!comparison) continue;
      value = comparison.median;
    } else {
      const row = find(rows, target.scenario, target.system, target.variant);
      if (!row) continue;
      value = row.median[target.metric] ?? Number.NaN;
      // A saturated generator voids a latency verdict; a throughput it still reached is a lower bound (met stays met).
      const reached = target.comparison === '≥' && value >= target.limit;
      if (generatorSaturated(row) && target.metric !== 'cpuUsPerChunk' && !reached) why = 'load generators saturated';
    }
    const met = Number.isNaN(value) || why ? null : target.comparison === '≥' ? value >= target.limit : value <= target.limit;
    results.push({ name: target.name, value, unit: target.unit, limit: target.limit, comparison: target.comparison, met, ...(why ? { why } : {}) });
  }
  return results;
}
