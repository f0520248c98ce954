// One subscription per (reader connection, stream): a second subscribe to the same stream
// replaces the first, so a connection never gets a chunk twice, and a connection reads at most
// `maxSubscriptionsPerConnection` streams.
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { RelayOptions } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, nextEvent } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-subscriptions';
const later = useCleanups();
const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [API_KEY], ...options });
const track = <T extends Socket>(socket: T): T => later(socket, close);

describe('one subscription per (connection, stream)', () => {
  it('ten subscribes to one stream on one connection, in flight at once: every chunk arrives once, and nothing stays behind', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'amplified' });
    const stored = 3_000;
    for (let seq = 0; seq < stored; seq += 500) {
      await producer.emitWithAck('mux:chunks', { streamId: 'amplified', seq, data: Array.from({ length: 500 }, (_, offset) => `"${seq + offset}"`) });
    }

    const reader = track(await connectReader(url, API_KEY, ['amplified']));
    const received: number[] = [];
    reader.on('stream:chunks', (frame: { seq: number; data: string[] }) => frame.data.forEach((_, offset) => received.push(frame.seq + offset)));
    const ended = nextEvent(reader, 'stream:end', 10_000);
    // Ten subscribes at once, all from 0: the last one wins, the earlier ones stop before sending anything.
    const answers = await Promise.all(Array.from({ length: 10 }, () => reader.timeout(5_000).emitWithAck('consumer:subscribe', { streamId: 'amplified', fromSeq: 0 })));
    expect(answers.every((answer) => answer.ok)).toBe(true);
    for (let seq = stored; seq < stored + 200; seq += 10) {
      await producer.emitWithAck('mux:chunks', { streamId: 'amplified', seq, data: Array.from({ length: 10 }, (_, offset) => `"${seq + offset}"`) });
    }
    await producer.emitWithAck('mux:end', { streamId: 'amplified', reason: 'completed', lastSeq: stored + 199 });
    await ended;
    expect(received).toEqual(Array.from({ length: stored + 200 }, (_, index) => index));
  });

  it('the subscriptions of a connection that subscribed ten times at once all leave with it', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'still-open' });
    const reader = await connectReader(url, API_KEY, ['still-open']);
    await Promise.all(Array.from({ length: 10 }, () => reader.timeout(5_000).emitWithAck('consumer:subscribe', { streamId: 'still-open' })));
    const readers = async () => Number(/^ss_relay_streams_with_readers (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    expect(await readers()).toBe(1);
    reader.close();
    await until(async () => (await readers()) === 0, 'the stream to have no reader left on the relay');
  });

  it('a second subscribe from another seq replaces the first: the reader gets the stream again from there, once', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'rewound' });
    await producer.emitWithAck('mux:chunks', { streamId: 'rewound', seq: 0, data: ['"a"', '"b"', '"c"'] });
    const reader = track(await connectReader(url, API_KEY, ['rewound']));
    const frames: Array<{ seq: number; data: string[] }> = [];
    reader.on('stream:chunks', (frame: { seq: number; data: string[] }) => frames.push(frame));
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'rewound', fromSeq: 0 })).toMatchObject({ ok: true });
    await until(() => frames.length === 1, 'the catch-up from 0');
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'rewound', fromSeq: 1 })).toMatchObject({ ok: true });
    await until(() => frames.length === 2, 'the catch-up from 1');
    await producer.emitWithAck('mux:chunks', { streamId: 'rewound', seq: 3, data: ['"d"'] });
    await until(() => frames.length === 3, 'the live chunk');
    await producer.emitWithAck('mux:chunks', { streamId: 'rewound', seq: 4, data: ['"e"'] });
    await until(() => frames.length === 4, 'the second live chunk');
    expect(frames).toEqual([
      { streamId: 'rewound', seq: 0, data: ['"a"', '"b"', '"c"'] },
      { streamId: 'rewound', seq: 1, data: ['"b"', '"c"'] },
      { streamId: 'rewound', seq: 3, data: ['"d"'] },
      { streamId: 'rewound', seq: 4, data: ['"e"'] },
    ]);
  });

  it('a connection reads at most maxSubscriptionsPerConnection streams: one more is QUOTA_EXCEEDED naming the quota, re-subscribing is fine', async () => {
    const { url } = await startRelay({ limits: { maxSubscriptionsPerConnection: 3 } });
    const ids = ['cap-0', 'cap-1', 'cap-2', 'cap-3'];
    const producer = track(await connectMuxProducer(url, API_KEY));
    for (const streamId of ids) await producer.emitWithAck('mux:open', { streamId });
    const reader = track(await connectReader(url, API_KEY, ids));
    for (const streamId of ids.slice(0, 3)) expect(await reader.emitWithAck('consumer:subscribe', { streamId })).toMatchObject({ ok: true });
    const refused = await reader.emitWithAck('consumer:subscribe', { streamId: 'cap-3' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'QUOTA_EXCEEDED', quota: { name: 'maxSubscriptionsPerConnection', limit: 3 } } });
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'cap-1', fromSeq: 0 })).toMatchObject({ ok: true });
    reader.emit('consumer:unsubscribe', { streamId: 'cap-0' });
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'cap-3' })).toMatchObject({ ok: true });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^ss_relay_limit_refusals_total\{limit="maxSubscriptionsPerConnection"\} 1$/m);
  });
});
