// What a relay test holds (relays, relay processes, producers, sockets, balancers, stores) is
// closed after each test, newest first: a test says how to close each thing where it makes it.
import { afterEach } from 'vitest';

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
