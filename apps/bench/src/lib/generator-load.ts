/**
 * How busy the load generators were during a measurement. A generator that runs out of CPU delays
 * its own sends and reads, and that delay would show up as the server's latency: a measurement
 * whose generators were saturated is flagged, and the report and the targets say so.
 */
import { availableParallelism } from 'node:os';
import { pinning } from './cpu-pinning.js';

/** Generators at or above this share of their cores (or one generator at this share of one core) are saturated. */
export const SATURATED = 0.9;

/**
 * @param cpuSeconds - CPU seconds each generator process used during the window.
 * @param seconds - the window's length.
 * @returns `generatorCpuPct` (100 = one core, summed over the generators) and `generatorSaturated` (1 or 0).
 */
export function generatorLoad(cpuSeconds: number[], seconds: number): { generatorCpuPct: number; generatorSaturated: number } {
  const total = cpuSeconds.reduce((sum, value) => sum + value, 0);
  const cores = pinning()?.generatorCores ?? Math.max(1, availableParallelism() - 1);
  const busiest = Math.max(0, ...cpuSeconds);
  const saturated = total / seconds >= SATURATED * cores || busiest / seconds >= SATURATED;
  return { generatorCpuPct: (total / seconds) * 100, generatorSaturated: saturated ? 1 : 0 };
}
