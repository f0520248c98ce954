// The token streams the relay tests produce, and what readers must receive for them.
import { setTimeout as sleep } from 'node:timers/promises';

/** The `index`-th token of a test stream. */
export const token = (index: number) => `token-${index} `;

/** `count` tokens from the `from`-th on, as the relay stores and delivers them (JSON-encoded by the producer SDK). */
export const encoded = (count: number, from = 0) => Array.from({ length: count }, (_, index) => JSON.stringify(token(from + index)));

/**
 * `count` tokens, pausing `pauseMs` every `every` tokens so the stream is live for a while.
 * @example
 * ```ts
 * await producer.stream(tokens(3_000, 50, 2))
 * ```
 */
export async function* tokens(count: number, every: number, pauseMs: number) {
  for (let index = 0; index < count; index++) {
    if (index % every === 0) await sleep(pauseMs);
    yield token(index);
  }
}
