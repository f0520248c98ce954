// The relay says when it is saturated: a real event-loop stall (the loop busy for 700 ms, as a
// fan-out it cannot keep up with does) shows in /healthz and /metrics, and clears once it is over.
import { describe, expect, it } from 'vitest';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const later = useCleanups();

describe('saturation', () => {
  it('an event loop delayed past saturationDelayMs shows in /healthz and /metrics, then clears', async () => {
    const { url } = await startTestRelay(later, { apiKeys: ['test-key-saturation'], limits: { saturationDelayMs: 250 } });
    const producer = later(await connectMuxProducer(url, 'test-key-saturation'), close);
    await producer.emitWithAck('mux:open', { streamId: 'during' });
    const reader = later(await connectReader(url, 'test-key-saturation', ['during']), close);
    const reading = readToEnd(reader, 'during');
    const health = async () => (await (await fetch(`${url}/healthz`)).json()) as { saturated: boolean; eventLoopDelayP99Ms: number };
    expect(await health()).toMatchObject({ saturated: false });
    const stalled = Date.now();
    while (Date.now() - stalled < 700) {
      // the relay shares this event loop: this is what a fan-out it cannot keep up with does to it
    }
    await until(async () => (await health()).saturated, 'the relay to report saturation', 5_000);
    expect((await health()).eventLoopDelayP99Ms).toBeGreaterThan(250);
    // While saturated, live broadcasts are spaced out (fewer, larger frames): still every chunk, once, in order.
    const writes = Array.from({ length: 20 }, (_, index) => producer.emitWithAck('mux:chunks', { streamId: 'during', seq: index * 5, data: Array.from({ length: 5 }, (_, offset) => `"${index * 5 + offset}"`) }));
    await Promise.all(writes);
    await producer.emitWithAck('mux:end', { streamId: 'during', reason: 'completed', lastSeq: 99 });
    const result = await reading;
    expect(result.data).toEqual(Array.from({ length: 100 }, (_, index) => `"${index}"`));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ss_relay_saturated 1$/m);
    expect(Number(/^ss_relay_saturated_seconds_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    await until(async () => !(await health()).saturated, 'the saturation to clear', 10_000);
  });
});
