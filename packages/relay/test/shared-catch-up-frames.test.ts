// Readers that catch up together share the encoded frames of one store read (SharedCatchUpFrames):
// every reader must still get exactly its own stream, from its own seq, once, in order — across
// two streams read at the same moment, readers starting mid-page, and a stream replaced between reads.
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'test-key-shared-frames';
const later = useCleanups();
const track = <T extends Socket>(socket: T): T => later(socket, close);

/** Writes a finished stream of `count` chunks, each naming its stream and seq. */
async function writeFinished(producer: Socket, streamId: string, count: number, tag = streamId): Promise<string[]> {
  const chunks = Array.from({ length: count }, (_, seq) => JSON.stringify(`${tag}:${seq}`));
  for (let seq = 0; seq < count; seq += 700) {
    expect(await producer.emitWithAck('mux:chunks', { streamId, seq, data: chunks.slice(seq, seq + 700) })).toMatchObject({ ok: true });
  }
  expect(await producer.emitWithAck('mux:end', { streamId, reason: 'completed', lastSeq: count - 1 })).toMatchObject({ ok: true });
  return chunks;
}

describe('catch-up frames shared between readers', () => {
  it('twenty readers of two streams, subscribed at once from several seqs, each get their own stream from their seq, once', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'left' });
    await producer.emitWithAck('mux:open', { streamId: 'right' });
    const streams = { left: await writeFinished(producer, 'left', 3_000), right: await writeFinished(producer, 'right', 2_500) };
    const plans = Array.from({ length: 20 }, (_, index) => ({ streamId: index % 2 === 0 ? 'left' : 'right', fromSeq: [0, 0, 0, 1, 1_024, 2_047][index % 6]! }));
    const readers = await Promise.all(plans.map((plan) => connectReader(url, API_KEY, [plan.streamId]).then(track)));
    const results = await Promise.all(plans.map((plan, index) => readToEnd(readers[index]!, plan.streamId, plan.fromSeq)));
    plans.forEach((plan, index) => {
      const expected = streams[plan.streamId as 'left' | 'right'].slice(plan.fromSeq);
      expect(results[index]!.data).toEqual(expected);
      expect(results[index]!.end).toEqual({ reason: 'completed', lastSeq: expected.length + plan.fromSeq - 1 });
    });
  });

  it('onAnyOutgoing listeners on relay.io still see every catch-up frame sent pre-encoded', async () => {
    const { relay, url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const seen = new Map<string, number>();
    relay.io.on('connection', (socket) =>
      socket.onAnyOutgoing((event: string, payload: { data?: string[] }) => {
        if (event === 'stream:chunks') seen.set(socket.id, (seen.get(socket.id) ?? 0) + (payload.data?.length ?? 0));
      }),
    );
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'watched' });
    await writeFinished(producer, 'watched', 2_500);
    const readers = await Promise.all([0, 1, 2].map(() => connectReader(url, API_KEY, ['watched']).then(track)));
    await Promise.all(readers.map((reader) => readToEnd(reader, 'watched')));
    expect([...seen.values()]).toEqual([2_500, 2_500, 2_500]);
  });

  it('a stream replaced between two catch-ups is read with its new chunks, never the frames of the old one', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'replaced' });
    const first = await writeFinished(producer, 'replaced', 1_500, 'old');
    const before = await Promise.all([0, 1].map(async () => readToEnd(track(await connectReader(url, API_KEY, ['replaced'])), 'replaced')));
    for (const result of before) expect(result.data).toEqual(first);

    expect(await producer.emitWithAck('mux:open', { streamId: 'replaced', overwrite: true })).toMatchObject({ ok: true });
    const second = await writeFinished(producer, 'replaced', 1_500, 'new');
    const after = await Promise.all([0, 1].map(async () => readToEnd(track(await connectReader(url, API_KEY, ['replaced'])), 'replaced')));
    for (const result of after) expect(result.data).toEqual(second);
  });
});
