import type { SystemId } from '../systems.js';
import type { Scenario } from './scenario.js';
import { measureLive } from './live-delivery.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-redis', 'durable-streams', 'resumable-stream'];

/** Live latency: many streams at a token rate, one reader each, started before the writes. */
export const liveLatency: Scenario = {
  id: 'live',
  title: 'Live latency',
  description: (settings) =>
    `${settings.live.streams} streams × ${settings.live.rate} chunks/s for ${settings.live.durationMs / 1000} s, one reader per stream (its own connection) started before the writes. Send→receive latency (producer and reader processes share the monotonic clock), delivered chunks/s, server CPU.`,
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
      { streams: settings.live.streams, rate: settings.live.rate, warmupMs: settings.live.warmupMs, durationMs: settings.live.durationMs, readersPerStream: 1, readerProcesses: settings.live.readerProcesses },
      'live',
    ),
};
