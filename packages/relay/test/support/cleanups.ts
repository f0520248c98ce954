// What a relay test holds (relays, relay processes, producers, sockets, balancers, stores) is
// closed after each test, newest first: a test says how to close each thing where it makes it.
// What a whole describe block shares (a Redis server, a Redis Cluster) lives from before its first
// test to after its last.
import { afterAll, afterEach, beforeAll } from 'vitest';

/** Keeps `value` until the end of the test, then runs `cleanup(value)`; returns `value`. */
export type Later = <T>(value: T, cleanup: (value: T) => unknown) => T;

/**
 * Registers an `afterEach` that runs every cleanup handed to the returned function, newest first
 * (a producer closes before the relay it writes to, a relay before the Redis it uses).
 * @example
 * ```ts
 * const later = useCleanups()
 * const relay = later(createRelay({ apiKeys }), (relay) => relay.close())
 * ```
 */
export function useCleanups(): Later {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (value, cleanup) => {
    cleanups.push(() => cleanup(value));
    return value;
  };
}

/** The usual cleanup, for `later(socket, close)`: calls `value.close()`. */
export function close(value: { close(): unknown }): unknown {
  return value.close();
}

/**
 * Starts `start()` before the tests of the enclosing `describe` block and stops it after the last
 * of them (a block-wide Redis server or Cluster).
 * @returns a getter for the started thing, for use inside tests and the hooks that run after it.
 * @example
 * ```ts
 * const redis = useForBlock(() => startRedisServer())
 * it('…', () => redisStore({ url: redis().url }))
 * ```
 */
export function useForBlock<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  }, 120_000);
  afterAll(async () => {
    await started?.stop();
  });
  return () => {
    if (!started) throw new Error('useForBlock: read before the describe block started it (it is there inside tests)');
    return started;
  };
}
