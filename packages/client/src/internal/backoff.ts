/**
 * Exponential backoff with jitter: `baseMs · 2^attempt`, capped at `maxMs`, then scaled by a random
 * factor in [0.5, 1] so that many readers cut off together do not come back together.
 * @param attempt - 0 for the first retry.
 * @param baseMs - the first delay.
 * @param maxMs - the largest delay.
 * @param random - a source of numbers in [0, 1), for tests.
 * @returns the delay in milliseconds.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
