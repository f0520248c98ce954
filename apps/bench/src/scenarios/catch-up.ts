import { startWorker } from '../lib/processes.js';
import { API_KEY, type RunningSystem, type SystemId } from '../systems.js';
import { FLOORS_INGEST_ONLY, type Scenario } from './scenario.js';
import { uniquePrefix, withSystem, within } from './with-system.js';

const SYSTEMS: SystemId[] = ['relay-memory', 'relay-redis', 'durable-streams'];

/** Runs the catch-up task and adds the server's CPU time over it (connections, the reads and the resumes). */
async function withServerCpu(running: RunningSystem, task: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = running.cpu();
  const result = (await task()) as Record<string, number>;
  return { ...result, serverCpuMs: (running.cpu() - before) * 1000 };
}

/** Catch-up: many readers of one finished stream at once; a reader resuming near the end. */
export const catchUp: Scenario = {
  id: 'catch-up',
  title: 'Catch-up',
  description: (settings) =>
    `One finished stream of ${settings.catchUp.chunks.toLocaleString('en')} chunks; ${settings.catchUp.readers} readers start from the beginning at once (each its own connection) → time until all have every chunk. Then a new reader resumes at seq ${settings.catchUp.resumeAt.toLocaleString('en')} → time to its first chunk, connection included (median of ${settings.catchUp.resumeRepeats}).`,
  cells: () => SYSTEMS.map((system) => ({ system, variant: '' })),
  notApplicable: {
    'resumable-stream': 'keeps no finished stream: resumeExistingStream returns null once the producer is done',
    'resumable-stream-http': 'keeps no finished stream (as resumable-stream): the resume route answers 204',
    ...FLOORS_INGEST_ONLY,
  },
  columns: [
    { key: 'allMs', label: 'all readers done ms', digits: 0, better: 'lower' },
    { key: 'resumeFirstChunkMs', label: 'resume → first chunk ms', digits: 1, better: 'lower' },
    { key: 'serverCpuMs', label: 'server CPU ms', digits: 0, better: 'lower' },
  ],
  async measure(cell, settings) {
    const { chunks, readers, resumeAt, resumeRepeats } = settings.catchUp;
    return withSystem(cell.system, settings, 'catch-up', async (running) => {
      const prefix = uniquePrefix();
      if (cell.system === 'durable-streams') {
        const target = { url: running.url, prefix };
        const filled = (await within(startWorker('ds.fill', { ...target, name: 'finished', chunks, resumeAt }).result, 120_000, 'fill')) as {
          resumeOffset: string;
        };
        return withServerCpu(running, () =>
          within(
          startWorker('ds.catch-up', { ...target, name: 'finished', readers, chunks, resumeOffset: filled.resumeOffset, resumeRepeats }).result,
          120_000,
          'catch-up',
          ),
        );
      }
      const target = { url: running.url, apiKey: API_KEY, prefix };
      const streamId = `${prefix}-finished`;
      await within(startWorker('ss.fill', { ...target, streamId, chunks }).result, 120_000, 'fill');
      // Raw readers by default (the relay's figure); BENCH_READERS=client reads with @ss/client.
      const task = process.env.BENCH_READERS === 'client' ? 'ss.catch-up' : 'ss.raw-catch-up';
      return withServerCpu(running, () => within(startWorker(task, { ...target, streamId, readers, chunks, resumeAt, resumeRepeats }).result, 120_000, 'catch-up'));
    });
  },
};
