import { fileURLToPath } from 'node:url';
import { type ServerProcess, startWorker } from '../lib/processes.js';
import { sleep } from '../lib/stats.js';
import { API_KEY, type SystemId } from '../systems.js';
import { FLOORS_INGEST_ONLY, type Scenario } from './scenario.js';
import { uniquePrefix, withSystem, within } from './with-system.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-redis', 'durable-streams'];
const GC_PROBE = fileURLToPath(new URL('../servers/gc-probe.js', import.meta.url));

/** Asks a Node server (started with the gc probe) for a full collection; returns its heap in use and RSS after it. */
async function probe(server: ServerProcess): Promise<{ heapUsed: number; rss: number }> {
  const seen = server.output().length;
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const match = /\[gc-probe\] heapUsed=(\d+) rss=(\d+)/.exec(server.output().slice(seen));
    if (match) return { heapUsed: Number(match[1]), rss: Number(match[2]) };
    await sleep(20);
  }
  throw new Error(`${server.name} did not answer the gc probe`);
}

/** Idle cost: resident memory per open stream with no traffic. */
export const idleCost: Scenario = {
  id: 'idle',
  title: 'Idle cost',
  description: (settings) =>
    `${settings.idle.streams.toLocaleString('en')} streams opened by one producer and left idle: growth of the server's resident memory (and of its JavaScript heap in use), divided by the number of streams, each measured right after a full garbage collection; Redis's own growth is shown separately. The baseline is taken after as many streams were opened the same way (and kept), so the heap has grown to its working size: the figures are the marginal cost of an idle stream.`,
  cells: () => SYSTEMS.map((system) => ({ system, variant: '' })),
  notApplicable: {
    'resumable-stream': 'no server process: an open stream lives in the app server that produces it (plus one Redis subscription)',
    'resumable-stream-http': 'as resumable-stream: an open stream lives in the app server that produces it (one held request plus one Redis subscription)',
    ...FLOORS_INGEST_ONLY,
  },
  columns: [
    { key: 'bytesPerStream', label: 'RSS bytes/stream', digits: 0, better: 'lower' },
    { key: 'heapBytesPerStream', label: 'heap bytes/stream', digits: 0, better: 'lower' },
    { key: 'redisBytesPerStream', label: 'Redis bytes/stream', digits: 0, better: 'lower' },
  ],
  async measure(cell, settings) {
    const streams = settings.idle.streams;
    return withSystem(
      cell.system,
      settings,
      'idle',
      async (running) => {
        const prefix = uniquePrefix();
        const task = cell.system === 'durable-streams' ? 'ds.open-idle' : 'ss.open-idle';
        const worker = startWorker(task, { url: running.url, apiKey: API_KEY, prefix, streams });
        try {
          await within(worker.waitFor('prepared'), 120_000, 'idle setup');
          await sleep(1000);
          const before = await probe(running.main);
          const redisBefore = running.servers[1]?.memory().rss ?? Number.NaN;
          worker.signal('go');
          await within(worker.waitFor('opened'), 180_000, 'opening idle streams');
          await sleep(1000);
          const after = await probe(running.main);
          const redisAfter = running.servers[1]?.memory().rss ?? Number.NaN;
          worker.signal('done');
          await within(worker.result, 30_000, 'idle worker');
          return {
            bytesPerStream: (after.rss - before.rss) / streams,
            heapBytesPerStream: (after.heapUsed - before.heapUsed) / streams,
            redisBytesPerStream: (redisAfter - redisBefore) / streams,
          };
        } finally {
          await worker.stop();
        }
      },
      ['--expose-gc', '--import', GC_PROBE],
    );
  },
};
