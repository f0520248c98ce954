// A load-generator process: runs one task (named `<driver>.<task>`) and reports its result over IPC.
import * as durableStreams from './drivers/durable-streams.js';
import * as floors from './drivers/floors.js';
import * as resumableHttp from './drivers/resumable-stream-http.js';
import * as resumable from './drivers/resumable-stream.js';
import * as streamstraight from './drivers/streamstraight.js';
import type { Task, TaskContext } from './lib/worker-context.js';

const tasks: Record<string, Task> = {
  'ss.ingest': streamstraight.ingest,
  'ss.produce-live': streamstraight.produceLive,
  'ss.read-live': streamstraight.readLive,
  'ss.read-live-sse': streamstraight.readLiveSse,
  'ss.raw-read-live': streamstraight.rawReadLive,
  'ss.raw-read-live-sse': streamstraight.rawReadLiveSse,
  'ss.ingest-http': streamstraight.ingestHttp,
  'ss.fill': streamstraight.fill,
  'ss.catch-up': streamstraight.catchUp,
  'ss.raw-catch-up': streamstraight.rawCatchUp,
  'ss.open-idle': streamstraight.openIdle,
  'ss.stream-start': streamstraight.streamStart,
  'ds.ingest': durableStreams.ingest,
  'ds.produce-live': durableStreams.produceLive,
  'ds.read-live': durableStreams.readLive,
  'ds.raw-read-live': durableStreams.rawReadLive,
  'ds.fill': durableStreams.fill,
  'ds.catch-up': durableStreams.catchUp,
  'ds.open-idle': durableStreams.openIdle,
  'ds.stream-start': durableStreams.streamStart,
  'rs.produce-live': resumable.produceLive,
  'rs.read-live': resumable.readLive,
  'rsh.produce-live': resumableHttp.produceLive,
  'rsh.read-live': resumableHttp.readLive,
  'floor.socketio-ingest': floors.socketIoIngest,
  'floor.xadd-ingest': floors.xaddIngest,
  'floor.produce-live': floors.socketIoProduceLive,
};

const signals = new Set<string>();
const signalWaiters = new Map<string, Array<() => void>>();

const context: TaskContext = {
  emit(name, data) {
    process.send?.({ type: 'event', name, data });
  },
  waitFor(name) {
    if (signals.has(name)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = signalWaiters.get(name) ?? [];
      list.push(resolve);
      signalWaiters.set(name, list);
    });
  },
};

function finish(message: object): void {
  // Let the IPC message flush, then leave whatever sockets the task left open.
  process.send?.(message, () => setTimeout(() => process.exit(0), 10));
}

process.on('message', (message: { type: string; task?: string; params?: unknown; name?: string }) => {
  if (message.type === 'signal' && message.name) {
    signals.add(message.name);
    for (const resolve of signalWaiters.get(message.name) ?? []) resolve();
    signalWaiters.delete(message.name);
    return;
  }
  if (message.type !== 'run' || !message.task) return;
  const task = tasks[message.task];
  if (!task) {
    finish({ type: 'error', message: `unknown task ${message.task}` });
    return;
  }
  task(message.params as never, context).then(
    (value) => {
      // Every result carries the worker's own CPU time, so the harness can show the load generators' CPU next to the server's.
      const cpu = process.cpuUsage();
      const workerCpuMs = (cpu.user + cpu.system) / 1000;
      finish({ type: 'result', value: value && typeof value === 'object' ? { ...value, workerCpuMs } : value });
    },
    (error: unknown) => finish({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
