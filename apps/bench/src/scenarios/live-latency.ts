import type { Scenario } from './scenario.js';
import { LIVE_SCENARIO_TABLE, measureLive } from './live-delivery.js';

/** Live latency: many streams at a token rate, one reader each, started before the writes. */
export const liveLatency: Scenario = {
  id: 'live',
  title: 'Live latency',
  description: (settings) =>
    `${settings.live.streams} streams × ${settings.live.rate} chunks/s for ${settings.live.durationMs / 1000} s, one reader per stream (its own connection) started before the writes. Send→receive latency (producer and reader processes share the monotonic clock), delivered chunks/s, server CPU.`,
  ...LIVE_SCENARIO_TABLE,
  // Two relays on one Redis: what a reader on another node than the producer's sees (the Redis issue's figure).
  cells: (settings) => [...LIVE_SCENARIO_TABLE.cells(settings), { system: 'relay-redis-2', variant: '' }],
  measure: (cell, settings) =>
    measureLive(
      cell.system,
      settings,
      { streams: settings.live.streams, rate: settings.live.rate, warmupMs: settings.live.warmupMs, durationMs: settings.live.durationMs, readersPerStream: 1, readerProcesses: settings.live.readerProcesses },
      'live',
    ),
};
