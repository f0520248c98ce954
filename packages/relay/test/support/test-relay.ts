// A relay in the test process, listening on port 0, closed after the test.
import { createRelay, type Relay, type RelayOptions, silentLogger } from '../../src/index.js';
import { close, type Later } from './cleanups.js';

/**
 * Creates a relay with `options` (logging off unless given), listens on a free port, and hands it
 * to `later` to close after the test.
 * @returns the relay, its base URL and its port.
 */
export async function startTestRelay(later: Later, options: RelayOptions): Promise<{ relay: Relay; url: string; port: number }> {
  const relay = later(createRelay({ log: silentLogger, ...options }), close);
  const { url, port } = await relay.listen(0);
  return { relay, url, port };
}
