// `mux:batch`: frames of several streams in one event with one ack, announced in `mux:hello`, and
// the producer SDK's use of it (a flush of many live streams travels as one batch).
import { streamstraightServer } from '@ss/core';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { close, useCleanups } from './support/cleanups.js';
import { connectRaw, connectReader, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'test-key-batch';
const later = useCleanups();
const startRelay = () => startTestRelay(later, { apiKeys: [API_KEY] });

/** A raw mux producer that also records the relay's `mux:hello`. */
async function connectMux(url: string): Promise<{ producer: Socket; hello: Promise<unknown> }> {
  let hello!: Promise<unknown>;
  const producer = await connectRaw(url, {
    apiKey: API_KEY,
    auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'], sdkVersion: 'raw-test' },
    beforeConnect: (socket) => {
      hello = new Promise((resolve) => socket.once('mux:hello', resolve));
    },
  });
  return { producer: later(producer, close), hello };
}

describe('mux:batch on the wire', () => {
  it('the relay greets a mux producer with the batch feature', async () => {
    const { url } = await startRelay();
    const { hello } = await connectMux(url);
    expect(await hello).toEqual({ features: ['batch'] });
  });

  it('answers every frame of a batch in order, each as mux:chunks would, a bad frame alone refused', async () => {
    const { relay, url } = await startRelay();
    const { producer } = await connectMux(url);
    for (const streamId of ['a', 'b', 'c']) expect(await producer.emitWithAck('mux:open', { streamId })).toMatchObject({ ok: true });

    const ack = await producer.emitWithAck('mux:batch', {
      frames: [
        { streamId: 'a', seq: 0, data: ['"a0"', '"a1"'] },
        { streamId: 'b', seq: 5, data: ['"b5"'] }, // a gap: b holds nothing yet
        { streamId: 'c', seq: 0, data: ['"c0"'] },
        { streamId: 'a', seq: 2, data: ['"a2"'] }, // same stream again: runs after its first frame
        { streamId: 'not open', seq: 0, data: ['"x"'] },
        { streamId: 'c', seq: 1, data: 'not an array' },
      ],
    });

    expect(ack).toMatchObject({
      ok: true,
      results: [
        { ok: true, lastSeq: 1 },
        { ok: false, error: { code: 'SEQ_GAP' } },
        { ok: true, lastSeq: 0 },
        { ok: true, lastSeq: 2 },
        { ok: false, error: { code: 'INVALID_STREAM_ID' } },
        { ok: false, error: { code: 'BAD_REQUEST' } },
      ],
    });
    expect(await relay.store.read('a', 0, 10)).toEqual(['"a0"', '"a1"', '"a2"']);
    expect(await relay.store.read('b', 0, 10)).toEqual([]);
    expect(await relay.store.read('c', 0, 10)).toEqual(['"c0"']);
  });

  it('refuses a malformed or empty batch as a whole with BAD_REQUEST', async () => {
    const { url } = await startRelay();
    const { producer } = await connectMux(url);
    expect(await producer.emitWithAck('mux:batch', { frames: [] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await producer.emitWithAck('mux:batch', 'nope')).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('keeps a stream in order when its frames come in batches and alone, interleaved', async () => {
    const { relay, url } = await startRelay();
    const { producer } = await connectMux(url);
    await producer.emitWithAck('mux:open', { streamId: 's' });
    const acks = await Promise.all([
      producer.emitWithAck('mux:chunks', { streamId: 's', seq: 0, data: ['"0"'] }),
      producer.emitWithAck('mux:batch', { frames: [{ streamId: 's', seq: 1, data: ['"1"'] }] }),
      producer.emitWithAck('mux:chunks', { streamId: 's', seq: 2, data: ['"2"'] }),
      producer.emitWithAck('mux:batch', { frames: [{ streamId: 's', seq: 3, data: ['"3"', '"4"'] }] }),
    ]);
    expect(acks).toEqual([
      { ok: true, lastSeq: 0 },
      { ok: true, results: [{ ok: true, lastSeq: 1 }] },
      { ok: true, lastSeq: 2 },
      { ok: true, results: [{ ok: true, lastSeq: 4 }] },
    ]);
    expect(await relay.store.read('s', 0, 10)).toEqual(['"0"', '"1"', '"2"', '"3"', '"4"']);
  });
});

describe('the producer SDK batches the frames of many live streams', () => {
  it('sends one flush of 200 streams as mux:batch events; every reader gets its stream intact', async () => {
    const { relay, url } = await startRelay();
    const seen = { batch: 0, chunks: 0 };
    relay.io.on('connection', (socket) =>
      socket.onAny((event: string) => {
        if (event === 'mux:batch') seen.batch++;
        if (event === 'mux:chunks') seen.chunks++;
      }),
    );
    const streamIds = Array.from({ length: 200 }, (_, index) => `live-${index}`);
    const servers = await Promise.all(streamIds.map((streamId) => streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId })));
    const writers = servers.map((server) => server.streamWriter<string>());
    // Token-sized chunks arriving for every stream in the same turns, as with many live answers.
    for (let round = 0; round < 5; round++) {
      for (const [index, writer] of writers.entries()) await writer.send(`${index}:${round}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(writers.map((writer) => writer.close()));

    expect(seen.batch).toBeGreaterThan(0);
    expect(seen.batch + seen.chunks).toBeLessThan(200); // one event per stream and round would be 1,000
    const reader = later(await connectReader(url, API_KEY, streamIds.slice(0, 3)), close);
    for (const [index, streamId] of streamIds.slice(0, 3).entries()) {
      const read = await readToEnd(reader, streamId);
      expect(read.data).toEqual([0, 1, 2, 3, 4].map((round) => JSON.stringify(`${index}:${round}`)));
    }
    await Promise.all(servers.map((server) => server.disconnect()));
  });
});
