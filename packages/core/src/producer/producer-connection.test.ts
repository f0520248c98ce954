// How a producer connection carries the frames of many streams: one `mux:batch` per flush when the
// relay announces the feature in `mux:hello`, separate `mux:chunks` frames when it does not. (The
// real relay's side is tested in packages/relay/test/mux-batch.test.ts.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { type StubRelay, startStubRelay } from '../../test/support/stub-relay.js';
import { streamstraightServer } from './streamstraight-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A relay that greets with `mux:hello {features: ['batch']}` and answers every `mux:batch` with `answer(frames)`. */
async function startBatchRelay(answer: (frames: Array<{ streamId: string; seq: number; data: string[] }>) => unknown) {
  const httpServer = createServer();
  const io = new Server(httpServer);
  const events: string[] = [];
  io.on('connection', (socket) => {
    socket.emit('mux:hello', { features: ['batch'] });
    socket.onAny((event: string) => events.push(event));
    socket.on('mux:open', ({ streamId }: { streamId: string }, ack: (value: unknown) => void) =>
      ack({ ok: true, info: { streamId, status: 'open', lastSeq: -1 } }),
    );
    socket.on('mux:chunks', ({ seq, data }: { seq: number; data: string[] }, ack: (value: unknown) => void) => ack({ ok: true, lastSeq: seq + data.length - 1 }));
    socket.on('mux:batch', ({ frames }: { frames: Array<{ streamId: string; seq: number; data: string[] }> }, ack: (value: unknown) => void) =>
      ack(answer(frames)),
    );
    socket.on('mux:end', ({ streamId, lastSeq }: { streamId: string; lastSeq: number }, ack: (value: unknown) => void) =>
      ack({ ok: true, info: { streamId, status: 'ended', lastSeq, endReason: 'completed' } }),
    );
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => io.close(() => resolve())));
  return { url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, events };
}

/** Starts `count` streams and writes one chunk to each in the same turn (one flush). */
async function writeOneEach(url: string, count: number, prefix: string) {
  const servers = await Promise.all(
    Array.from({ length: count }, (_, index) => streamstraightServer({ apiKey: 'k', baseUrl: url, ackTimeoutMs: 2000, retries: 0 }, { streamId: `${prefix}-${index}` })),
  );
  cleanups.push(async () => {
    await Promise.all(servers.map((server) => server.disconnect()));
  });
  const writers = servers.map((server) => server.streamWriter<string>());
  for (const [index, writer] of writers.entries()) await writer.send(`chunk ${index}`);
  return Promise.allSettled(writers.map((writer) => writer.close()));
}

describe('ProducerConnection batching', () => {
  it('sends the frames of one flush as a mux:batch to a relay that accepts it', async () => {
    const relay = await startBatchRelay((frames) => ({ ok: true, results: frames.map(({ seq, data }) => ({ ok: true, lastSeq: seq + data.length - 1 })) }));
    const outcomes = await writeOneEach(relay.url, 20, 'accepted');
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(relay.events).toContain('mux:batch');
    expect(relay.events).not.toContain('mux:chunks');
  });

  it('never sends mux:batch to a relay that does not announce it', async () => {
    const relay: StubRelay = await startStubRelay(); // answers mux:chunks only; a batch would never be acknowledged
    cleanups.push(() => relay.close());
    const outcomes = await writeOneEach(relay.url, 20, 'plain');
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(relay.streams.get('plain-7')?.chunks).toEqual([JSON.stringify('chunk 7')]);
  });

  it('gives every stream of a refused batch the relay’s error', async () => {
    const relay = await startBatchRelay(() => ({ ok: false, error: { code: 'BAD_REQUEST', message: 'no batches today' } }));
    const outcomes = await writeOneEach(relay.url, 5, 'refused');
    for (const outcome of outcomes) expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'BAD_REQUEST' } });
  });

  it('treats a batch answer without one result per frame as a malformed ack: the streams resync and resend', async () => {
    let answered = 0;
    const relay = await startBatchRelay((frames) =>
      answered++ === 0 ? { ok: true, results: [] } : { ok: true, results: frames.map(({ seq, data }) => ({ ok: true, lastSeq: seq + data.length - 1 })) },
    );
    const outcomes = await writeOneEach(relay.url, 5, 'malformed');
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(relay.events.filter((event) => event === 'mux:open').length).toBeGreaterThan(5); // the resume opens
  });
});
