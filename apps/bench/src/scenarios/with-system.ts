import { join } from 'node:path';
import type { Settings } from '../settings.js';
import { type RunningSystem, SYSTEMS, type SystemId } from '../systems.js';

let counter = 0;

/** A fresh prefix for stream ids and keys. */
export function uniquePrefix(): string {
  return `b${Date.now().toString(36)}${(counter++).toString(36)}`;
}

/** Starts `system` (CPU-profiled when `--profile` names it), runs `body`, stops it. */
export async function withSystem<T>(
  system: SystemId,
  settings: Settings,
  label: string,
  body: (running: RunningSystem) => Promise<T>,
  extraNodeArgs: string[] = [],
): Promise<T> {
  const profile = settings.profile && settings.profile.system === system;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${settings.profile!.dir}`, `--cpu-prof-name=${system}-${label}-${Date.now()}.cpuprofile`] : [];
  nodeArgs.push(...extraNodeArgs);
  // For diagnosis only: extra Node flags for every server process (for example `-r ./memlog.cjs`).
  if (process.env.BENCH_SERVER_NODE_ARGS) nodeArgs.push(...process.env.BENCH_SERVER_NODE_ARGS.split(' '));
  const running = await SYSTEMS[system].start(nodeArgs);
  try {
    return await body(running);
  } finally {
    await running.stop();
  }
}

/** Races `promise` against a deadline. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

export { join };
