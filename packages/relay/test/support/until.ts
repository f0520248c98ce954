// Polling for a condition in tests that wait on another process, a socket or Redis.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once `check` returns true, polling every 10 ms.
 * @param check - the condition (may be async).
 * @param what - named in the error on timeout.
 * @param timeoutMs - how long to wait. Default 10 s.
 * @example
 * ```ts
 * await until(() => events.some((event) => event.type === 'end'), 'the end event')
 * ```
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
