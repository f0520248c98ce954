import type { Scenario } from './scenario.js';
import { LIVE_SCENARIO_TABLE, measureLive } from './live-delivery.js';

/** Fan-out: one stream at a token rate with many readers. */
export const fanOut: Scenario = {
  id: 'fan-out',
  title: 'Fan-out',
  description: (settings) =>
    `One stream at ${settings.fanOut.rate} chunks/s for ${settings.fanOut.durationMs / 1000} s with ${settings.fanOut.readers.toLocaleString('en')} readers (each its own connection, in ${settings.fanOut.readerProcesses} reader processes). Send→receive latency over all deliveries.`,
  ...LIVE_SCENARIO_TABLE,
  notApplicable: { ...LIVE_SCENARIO_TABLE.notApplicable, 'relay-redis-2': 'measured in live latency only' },
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
