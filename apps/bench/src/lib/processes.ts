/**
 * Child processes of the harness: systems under test (servers) and load generators (workers).
 * Every one runs on loopback in its own process so a load generator's CPU is never the server's.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onServerCores } from './cpu-pinning.js';
import { cpuSeconds, memory } from './proc-stats.js';

/** A running server. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** The URL it printed (or `redis://…`). */
  readonly url: string;
  /** CPU seconds used so far. */
  cpu(): number;
  /** Resident and peak resident memory in bytes. */
  memory(): { rss: number; peakRss: number };
  /** Everything it printed. */
  output(): string;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

const live = new Set<ChildProcess>();
/** Kills every child still running (the harness is exiting). */
export function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * Starts `command args` and waits until its output matches `ready` (whose first group is the URL).
 * @param name - shown in errors.
 */
export async function startServer(name: string, command: string, args: string[], ready: RegExp, timeoutMs = 20_000): Promise<ServerProcess> {
  // On the servers' cores when pinned (taskset execs the command: the pid stays the server's).
  const [pinnedCommand, pinnedArgs] = onServerCores(command, args);
  const child = spawn(pinnedCommand, pinnedArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        resolve(match[1] ?? '');
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => fail(new Error(`${name} exited (${code}) before it was ready:\n${output}`)));
  });
  const pid = child.pid!;
  return {
    name,
    pid,
    url,
    cpu: () => cpuSeconds(pid),
    memory: () => memory(pid),
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited(child);
      clearTimeout(timer);
    },
  };
}

/** Messages a worker sends. */
export type WorkerMessage =
  | { type: 'event'; name: string; data?: unknown }
  | { type: 'result'; value: unknown }
  | { type: 'error'; message: string };

/** A load generator running one task. */
export interface WorkerProcess {
  readonly pid: number;
  /** Resolves when the worker signals `name` (rejects if it fails first). */
  waitFor(name: string): Promise<unknown>;
  /** Sends a signal (for example `go`). */
  signal(name: string): void;
  /** The task's result. */
  readonly result: Promise<unknown>;
  cpu(): number;
  /** Waits up to 3 s for the worker to exit by itself (it does after its result), then kills it. */
  stop(): Promise<void>;
  kill(): void;
}

const workerPath = fileURLToPath(new URL('../worker.js', import.meta.url));

/**
 * Forks a worker that runs `task` with `params` (see `worker.ts` for the task names).
 * @param nodeArgs - extra Node flags (for example `--cpu-prof`).
 */
export function startWorker(task: string, params: unknown, nodeArgs: string[] = []): WorkerProcess {
  const profileDir = process.env.BENCH_PROFILE_WORKERS;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${task}-${Date.now()}.cpuprofile`] : [];
  // For diagnosis only: extra Node flags for every worker (for example `--import ./eld.mjs`).
  if (process.env.BENCH_WORKER_NODE_ARGS) profile.push(...process.env.BENCH_WORKER_NODE_ARGS.split(' '));
  const child = fork(workerPath, [], { serialization: 'advanced', execArgv: ['--max-old-space-size=4096', ...profile, ...nodeArgs], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  const events = new Map<string, unknown>();
  const waiters = new Map<string, Array<(value: unknown) => void>>();
  let failure: Error | undefined;
  const failWaiters: Array<(error: Error) => void> = [];
  let resolveResult!: (value: unknown) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<unknown>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  result.catch(() => {});
  const fail = (error: Error) => {
    if (failure) return;
    failure = error;
    rejectResult(error);
    for (const reject of failWaiters) reject(error);
  };
  child.on('message', (message: WorkerMessage) => {
    if (message.type === 'event') {
      events.set(message.name, message.data);
      for (const resolve of waiters.get(message.name) ?? []) resolve(message.data);
      waiters.delete(message.name);
    } else if (message.type === 'result') resolveResult(message.value);
    else fail(new Error(`worker ${task}: ${message.message}`));
  });
  child.once('exit', (code, signal) => {
    live.delete(child);
    fail(new Error(`worker ${task} exited (${code ?? signal}) without a result`));
  });
  child.send({ type: 'run', task, params });
  return {
    pid: child.pid!,
    waitFor(name) {
      if (events.has(name)) return Promise.resolve(events.get(name));
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        const list = waiters.get(name) ?? [];
        list.push(resolve);
        waiters.set(name, list);
        failWaiters.push(reject);
      });
    },
    signal(name) {
      if (child.connected) child.send({ type: 'signal', name });
    },
    result,
    cpu: () => cpuSeconds(child.pid!),
    async stop() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited(child);
      clearTimeout(timer);
    },
    kill() {
      child.kill('SIGKILL');
    },
  };
}
