/**
 * CPU pinning: the servers under test run on one set of cores and the load generators (and this
 * harness) on the others, through Linux's `taskset`, so a busy load generator cannot steal the
 * server's core and the server's CPU time is its own. On 2 cores: servers on CPU 0, everything
 * else on CPU 1. Off with `--no-pin`, or when `taskset` is missing or there is only one core.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Which CPUs the servers and the generators use (taskset lists, e.g. `0` and `1`). */
export interface Pinning {
  server: string;
  generators: string;
  /** How many cores the generators share (their CPU % is out of this × 100). */
  generatorCores: number;
}

let current: Pinning | undefined;

/** The pinning in force (undefined: processes float over every core). */
export function pinning(): Pinning | undefined {
  return current;
}

/**
 * Decides the pinning and pins this process (and so every worker it forks later) to the
 * generators' cores. Returns why it did not pin, when it did not.
 */
export function setUpPinning(enabled: boolean): string | undefined {
  if (!enabled) return 'off (--no-pin)';
  const cores = availableParallelism();
  if (cores < 2) return `off (${cores} core)`;
  const plan: Pinning = { server: '0', generators: cores === 2 ? '1' : `1-${cores - 1}`, generatorCores: cores - 1 };
  // -a: every thread of this process (libuv's pool and V8's platform threads already exist).
  const result = spawnSync('taskset', ['-a', '-p', '-c', plan.generators, String(process.pid)], { stdio: 'ignore' });
  if (result.error || result.status !== 0) return 'off (taskset is not available: apt-get install util-linux)';
  current = plan;
  return undefined;
}

/** `command args`, run on the servers' cores when pinning is on. */
export function onServerCores(command: string, args: string[]): [string, string[]] {
  return current ? ['taskset', ['-c', current.server, command, ...args]] : [command, args];
}

/** A one-line description for the results. */
export function describePinning(): string {
  return current ? `servers on CPU ${current.server}, load generators and harness on CPU ${current.generators} (taskset)` : 'not pinned';
}
