import { generatorLoad } from '../lib/generator-load.js';
import { startWorker } from '../lib/processes.js';
import { API_KEY, type SystemId } from '../systems.js';
import type { Cell, Scenario } from './scenario.js';
import { uniquePrefix, withSystem, within } from './with-system.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-http', 'relay-redis', 'durable-streams', 'socketio-1', 'socketio-64', 'redis-xadd'];

function task(system: SystemId): string {
  if (system === 'relay-memory' || system === 'relay-redis') return 'ss.ingest';
  if (system === 'relay-http') return 'ss.ingest-http';
  if (system === 'durable-streams') return 'ds.ingest';
  if (system === 'redis-xadd') return 'floor.xadd-ingest';
  return 'floor.socketio-ingest';
}

/** Ingest: N streams push 2,000 chunks each as fast as acks allow. */
export const ingest: Scenario = {
  id: 'ingest',
  title: 'Ingest',
  description: (settings) =>
    `${settings.ingest.streamCounts.join(' / ')} concurrent streams, each pushing ${settings.ingest.chunks.toLocaleString('en')} chunks of 24 bytes as fast as acknowledgements allow; counting stops after ${settings.ingest.capMs / 1000} s. Acknowledged chunks per second, server CPU (100 % = one core; Redis included where used), peak server RSS.`,
  cells: (settings) =>
    settings.ingest.streamCounts.flatMap((streams) =>
      SYSTEMS.map((system): Cell => ({ system, variant: `${streams} stream${streams === 1 ? '' : 's'}`, params: { streams } })),
    ),
  notApplicable: {
    'resumable-stream': 'no acknowledged write: chunks stay in the producer process and are only published to resumers that are listening',
    'resumable-stream-http': 'no acknowledged write (as resumable-stream)',
  },
  columns: [
    { key: 'ackedPerSec', label: 'acked chunks/s', digits: 0, better: 'higher' },
    { key: 'cpuPct', label: 'server CPU %', digits: 0, better: 'lower' },
    { key: 'cpuUsPerChunk', label: 'server CPU µs/chunk', digits: 2, better: 'lower' },
    { key: 'generatorCpuPct', label: 'generator CPU %', digits: 0, better: 'lower' },
    { key: 'peakRssMb', label: 'peak RSS MB', digits: 0, better: 'lower' },
  ],
  async measure(cell, settings) {
    const streams = cell.params!.streams!;
    return withSystem(cell.system, settings, `ingest-${streams}`, async (running) => {
      const params = {
        url: running.url,
        redisUrl: running.redisUrl,
        apiKey: API_KEY,
        prefix: uniquePrefix(),
        streams,
        chunks: settings.ingest.chunks,
        capMs: settings.ingest.capMs,
        perEmit: cell.system === 'socketio-64' ? 64 : 1,
      };
      const worker = startWorker(task(cell.system), params);
      await within(worker.waitFor('prepared'), 60_000, 'ingest setup');
      const cpuBefore = running.cpu();
      const workerCpuBefore = worker.cpu();
      worker.signal('go');
      const result = (await within(worker.result, settings.ingest.capMs + 120_000, 'ingest')) as { acked: number; elapsedMs: number; workerCpuMs: number };
      const cpu = running.cpu() - cpuBefore;
      const seconds = result.elapsedMs / 1000;
      return {
        ackedPerSec: result.acked / seconds,
        cpuPct: (cpu / seconds) * 100,
        cpuUsPerChunk: (cpu * 1e6) / result.acked,
        ...generatorLoad([result.workerCpuMs / 1000 - workerCpuBefore], seconds),
        peakRssMb: running.main.memory().peakRss / 2 ** 20,
        acked: result.acked,
      };
    });
  },
};
