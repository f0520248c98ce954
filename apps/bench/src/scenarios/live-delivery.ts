/** Shared by live latency and fan-out: producers write timed chunks, readers in other processes measure send→receive. */
import { generatorLoad } from '../lib/generator-load.js';
import { Histogram, type HistogramData, nowUs } from '../lib/histogram.js';
import { sleep } from '../lib/stats.js';
import { type WorkerProcess, startWorker } from '../lib/processes.js';
import type { Settings } from '../settings.js';
import { API_KEY, type SystemId } from '../systems.js';
import { FLOORS_INGEST_ONLY, type Metrics, type Scenario } from './scenario.js';
import { uniquePrefix, withSystem, within } from './with-system.js';

const DRIVER: Partial<Record<SystemId, string>> = {
  'relay-memory': 'ss',
  'relay-sse': 'ss',
  'relay-redis': 'ss',
  'relay-redis-2': 'ss',
  'durable-streams': 'ds',
  'resumable-stream': 'rs',
  'resumable-stream-http': 'rsh',
  'socketio-relay': 'floor',
};

/**
 * The reader task of `system`. By default the raw readers (`lib/raw-readers.ts`: each system's
 * wire protocol over a bare WebSocket or SSE response, cheap enough that the readers do not
 * saturate the machine); `BENCH_READERS=client` reads with the client libraries instead (`@ss/client`,
 * `@durable-streams/client`), for the end-to-end figure. Systems without a raw reader use their own.
 */
function readTask(system: SystemId, driver: string): string {
  const client = process.env.BENCH_READERS === 'client';
  if (system === 'relay-sse') return client ? 'ss.read-live-sse' : 'ss.raw-read-live-sse';
  if (driver === 'floor') return 'ss.raw-read-live'; // the floor answers the relay's reader handshake
  if (!client && (driver === 'ss' || driver === 'ds')) return `${driver}.raw-read-live`;
  return `${driver}.read-live`;
}

/** Systems, rows and columns shared by the live-latency and fan-out scenarios (both measured by {@link measureLive}). */
export const LIVE_SCENARIO_TABLE: Pick<Scenario, 'cells' | 'notApplicable' | 'columns'> = {
  cells: () =>
    (['relay-memory', 'relay-sse', 'relay-redis', 'durable-streams', 'resumable-stream', 'resumable-stream-http', 'socketio-relay'] as SystemId[]).map((system) => ({ system, variant: '' })),
  notApplicable: FLOORS_INGEST_ONLY,
  columns: [
    { key: 'p50Ms', label: 'p50 ms', digits: 1, better: 'lower' },
    { key: 'p99Ms', label: 'p99 ms', digits: 1, better: 'lower' },
    { key: 'p999Ms', label: 'p99.9 ms', digits: 1, better: 'lower' },
    { key: 'deliveredPerSec', label: 'delivered/s', digits: 0, better: 'higher' },
    { key: 'lostPct', label: 'lost %', digits: 1, better: 'lower' },
    { key: 'cpuPct', label: 'server CPU %', digits: 0, better: 'lower' },
    { key: 'cpuUsPerChunk', label: 'server CPU µs/delivery', digits: 1, better: 'lower' },
    { key: 'generatorCpuPct', label: 'generators CPU %', digits: 0, better: 'lower' },
  ],
};

/** What one live run looks like. */
export interface LivePlan {
  streams: number;
  rate: number;
  durationMs: number;
  /** Chunks sent (and delivered) before measuring starts. */
  warmupMs: number;
  /** Readers per stream. */
  readersPerStream: number;
  readerProcesses: number;
}

function streamNames(system: SystemId, prefix: string, streams: number): string[] {
  return Array.from({ length: streams }, (_, index) => {
    if (system === 'durable-streams') return String(index);
    if (system === 'resumable-stream') return `s-${index}`;
    return `${prefix}-${index}`;
  });
}

/** Runs one live delivery measurement of `system`. */
export async function measureLive(system: SystemId, settings: Settings, plan: LivePlan, label: string): Promise<Metrics> {
  const driver = DRIVER[system];
  if (!driver) throw new Error(`${system} has no live driver`);
  return withSystem(system, settings, label, async (running) => {
    const prefix = uniquePrefix();
    const target = { url: running.url, apiKey: API_KEY, prefix, redisUrl: running.redisUrl };
    const readerTarget = { ...target, url: running.readerUrl ?? running.url };
    const producer = startWorker(`${driver}.produce-live`, { ...target, streams: plan.streams, rate: plan.rate, warmupMs: plan.warmupMs, durationMs: plan.durationMs });
    const readers: WorkerProcess[] = [];
    try {
      await within(producer.waitFor('prepared'), 120_000, 'live producer setup');
      const names = streamNames(system, prefix, plan.streams);
      const all: string[] = [];
      for (let copy = 0; copy < plan.readersPerStream; copy++) all.push(...names);
      for (let process = 0; process < plan.readerProcesses; process++) {
        const share = all.filter((_, index) => index % plan.readerProcesses === process);
        readers.push(startWorker(readTask(system, driver), { ...readerTarget, streamIds: share, names: share }));
      }
      await within(Promise.all(readers.map((reader) => reader.waitFor('ready'))), 120_000, 'live readers setup');
      producer.signal('go');
      await sleep(plan.warmupMs);
      const cpuBefore = running.cpu();
      const producerCpuBefore = producer.cpu();
      const readersCpuBefore = readers.map((reader) => reader.cpu());
      const goAt = nowUs();
      const produced = (await within(producer.result, plan.durationMs + plan.warmupMs + 60_000, 'live producer')) as { sent: number; workerCpuMs: number };
      // Readers finish when their streams end; whatever has not arrived 3 s after the last write counts as lost.
      const stop = setTimeout(() => {
        for (const reader of readers) reader.signal('stop');
      }, 3000);
      const results = (await within(Promise.all(readers.map((reader) => reader.result)), 60_000, 'live readers').finally(() => clearTimeout(stop))) as Array<{
        histogram: HistogramData;
        received: number;
        lastAt: number;
        workerCpuMs: number;
        /** Raw readers only: chunks that did not follow their reader's previous one; connections opened again mid-stream. */
        sequenceErrors?: number;
        reconnects?: number;
      }>;
      const sequenceErrors = results.reduce((sum, result) => sum + (result.sequenceErrors ?? 0), 0);
      if (sequenceErrors > 0) throw new Error(`${sequenceErrors} chunks arrived out of sequence (a gap, a duplicate or a reordering): the readers' figures are not trustworthy`);
      // Server CPU up to the last delivery (the readers are done), so every delivered chunk's cost is in it.
      const cpuSeconds = running.cpu() - cpuBefore;
      const producerCpuSeconds = produced.workerCpuMs / 1000 - producerCpuBefore;
      const readersCpuSeconds = results.map((result, index) => result.workerCpuMs / 1000 - readersCpuBefore[index]!);
      const histogram = new Histogram();
      let received = 0;
      let lastAt = goAt;
      for (const result of results) {
        histogram.merge(result.histogram);
        received += result.received;
        lastAt = Math.max(lastAt, result.lastAt);
      }
      const expected = produced.sent * plan.readersPerStream;
      const seconds = (lastAt - goAt) / 1e6;
      if (process.env.BENCH_DEBUG) console.error(running.main.output().split('\n').filter((line) => line.startsWith('[eld]')).join('\n'));
      return {
        p50Ms: histogram.percentile(0.5) / 1000,
        p99Ms: histogram.percentile(0.99) / 1000,
        p999Ms: histogram.percentile(0.999) / 1000,
        deliveredPerSec: received / seconds,
        lostPct: expected === 0 ? 0 : (Math.max(0, expected - received) / expected) * 100,
        cpuPct: (cpuSeconds / seconds) * 100,
        // Everything the server did (ingest, storage, every delivery) divided by the deliveries measured.
        cpuUsPerChunk: received === 0 ? Number.NaN : (cpuSeconds * 1e6) / received,
        ...generatorLoad([producerCpuSeconds, ...readersCpuSeconds], seconds),
        producerCpuPct: (producerCpuSeconds / seconds) * 100,
        readerCpuPct: (readersCpuSeconds.reduce((sum, value) => sum + value, 0) / seconds) * 100,
        sent: produced.sent,
        readerReconnects: results.reduce((sum, result) => sum + (result.reconnects ?? 0), 0),
      };
    } finally {
      await Promise.all([producer, ...readers].map((worker) => worker.stop()));
    }
  });
}
