import type { SystemId } from '../systems.js';
import type { Scenario } from './scenario.js';
import { measureLive } from './live-delivery.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-redis', 'durable-streams', 'resumable-stream'];

/** Fan-out: one stream at a token rate with many readers. */
export const fanOut: Scenario = {
  id: 'fan-out',
  title: 'Fan-out',
  description: (settings) =>
    `One stream at ${settings.fanOut.rate} chunks/s for ${settings.fanOut.durationMs / 1000} s with ${settings.fanOut.readers.toLocaleString('en')} readers (each its own connection, in ${settings.fanOut.readerProcesses} reader processes). Send→receive latency over all deliveries.`,
  cells: () => SYSTEMS.map((system) => ({ system, variant: '' })),
  notApplicable: { 'socketio-1': 'a floor for ingest only', 'socketio-64': 'a floor for ingest only', 'redis-xadd': 'a floor for ingest only' },
  columns: [
    { key: 'p50Ms', label: 'p50 ms', digits: 1, better: 'lower' },
    { key: 'p99Ms', label: 'p99 ms', digits: 1, better: 'lower' },
    { key: 'p999Ms', label: 'p99.9 ms', digits: 1, better: 'lower' },
    { key: 'deliveredPerSec', label: 'delivered/s', digits: 0, better: 'higher' },
    { key: 'lostPct', label: 'lost %', digits: 1, better: 'lower' },
    { key: 'cpuPct', label: 'server CPU %', digits: 0, better: 'lower' },
  ],
  measure: (cell, settings) =>
    measureLive(
      cell.system,
      settings,
      {
        streams: 1,
        rate: settings.fanOut.rate,
        warmupMs: settings.fanOut.warmupMs, durationMs: settings.fanOut.durationMs,
        readersPerStream: settings.fanOut.readers,
        readerProcesses: settings.fanOut.readerProcesses,
      },
      'fan-out',
    ),
};
