// What every client integration test needs: cleanups that run after each test (last in, first
// out), a relay with a raw mux producer connected to it, and a way to read a reader to its end.
import { afterEach } from 'vitest';
import type { StreamReader } from '../../src/index.js';
import { type MuxProducer, startMuxProducer } from './mux-producer.js';
import { API_KEY, type RelayFixture, startRelay } from './relay-fixture.js';

/** Registers an `afterEach` that runs everything handed to `defer`, newest first. */
export function useCleanups(): (cleanup: () => unknown) => void {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/** A relay on port 0 and a mux producer connected to it, both closed after the test. */
export async function startRelayWithProducer(
  defer: (cleanup: () => unknown) => void,
  options: Parameters<typeof startRelay>[0] = {},
): Promise<{ fixture: RelayFixture; producer: MuxProducer }> {
  const fixture = await startRelay(options);
  defer(() => fixture.close());
  const producer = await startMuxProducer(fixture.url, API_KEY);
  defer(() => producer.close());
  return { fixture, producer };
}

/** Concatenates every chunk of a reader until its stream ends. */
export async function readAll(stream: StreamReader<string>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk;
  return text;
}
