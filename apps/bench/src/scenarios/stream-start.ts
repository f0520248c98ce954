import { startWorker } from '../lib/processes.js';
import { API_KEY, type SystemId } from '../systems.js';
import { FLOORS_INGEST_ONLY, type Scenario } from './scenario.js';
import { uniquePrefix, withSystem, within } from './with-system.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-redis', 'durable-streams'];

/** Stream start: from the producer call to the first chunk acknowledged. */
export const streamStart: Scenario = {
  id: 'start',
  title: 'Stream start',
  description: (settings) =>
    `Time from starting a stream to its first chunk acknowledged (median of ${settings.start.repeats}): on a warm connection, and on a cold one (new connection; Durable Streams: the first request of the process). "round trip" is one acknowledged frame on a warm producer connection (Durable Streams: a HEAD on a warm connection), for scale; "in round trips" counts them: the warm start through a proxy that adds 10 ms each way, divided by a round trip through it.`,
  cells: () => SYSTEMS.map((system) => ({ system, variant: '' })),
  notApplicable: {
    'resumable-stream': 'no acknowledged write',
    'resumable-stream-http': 'no acknowledged write',
    ...FLOORS_INGEST_ONLY,
  },
  columns: [
    { key: 'warmMs', label: 'warm ms', digits: 2, better: 'lower' },
    { key: 'coldMs', label: 'cold ms', digits: 2, better: 'lower' },
    { key: 'rttMs', label: 'round trip ms', digits: 2, better: 'lower' },
    { key: 'warmRoundTrips', label: 'warm start in round trips', digits: 2, better: 'lower' },
  ],
  async measure(cell, settings) {
    return withSystem(cell.system, settings, 'start', async (running) => {
      const task = cell.system === 'durable-streams' ? 'ds.stream-start' : 'ss.stream-start';
      const result = (await within(
        startWorker(task, { url: running.url, apiKey: API_KEY, prefix: uniquePrefix(), repeats: settings.start.repeats }).result,
        60_000,
        'stream start',
      )) as Record<string, number>;
      return { rttMs: Number.NaN, warmRoundTrips: Number.NaN, ...result };
    });
  },
};
