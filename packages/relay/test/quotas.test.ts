// Producer quotas: open streams per connection and per API key, stored bytes per stream and per
// key, chunks per second per connection, and the memory store's byte budget. Each refusal is
// QUOTA_EXCEEDED naming the quota and its limit, and never touches another key's streams.
import { mintClientToken } from '@ss/core';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { type RelayOptions, memoryStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectRaw, nextEvent, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const KEY_A = 'test-key-quota-a';
const KEY_B = 'test-key-quota-b';
const later = useCleanups();
const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [KEY_A, KEY_B], ...options });
const track = <T extends Socket>(socket: T): T => later(socket, close);

type Answer = { ok: boolean; error?: { code: string; quota?: { name: string; limit: number }; retryInMs?: number } };
const open = (producer: Socket, streamId: string): Promise<Answer> => producer.timeout(5_000).emitWithAck('mux:open', { streamId });
const write = (producer: Socket, streamId: string, seq: number, data: string[]): Promise<Answer> =>
  producer.timeout(5_000).emitWithAck('mux:chunks', { streamId, seq, data });
const refusal = (name: string, limit: number) => ({ ok: false, error: { code: 'QUOTA_EXCEEDED', quota: { name, limit } } });

/** Key B streams 500 chunks to a reader from start to end: it must be untouched by A's refusals. */
async function keyBStreamsNormally(url: string, streamId: string): Promise<void> {
  const producer = track(await connectMuxProducer(url, KEY_B));
  expect(await open(producer, streamId)).toMatchObject({ ok: true });
  const token = await mintClientToken({ apiKey: KEY_B, streamIds: [streamId] });
  const reader = track(await connectRaw(url, { auth: { role: 'consumer', token } }));
  const reading = readToEnd(reader, streamId);
  for (let seq = 0; seq < 500; seq += 50) {
    expect(await write(producer, streamId, seq, Array.from({ length: 50 }, (_, offset) => `"${seq + offset}"`))).toMatchObject({ ok: true });
  }
  await producer.emitWithAck('mux:end', { streamId, reason: 'completed', lastSeq: 499 });
  expect((await reading).data).toHaveLength(500);
}

describe('producer quotas', () => {
  it('open streams per connection and per key: QUOTA_EXCEEDED for key A, key B streams on; an end frees a slot', async () => {
    const { url } = await startRelay({ limits: { maxOpenStreamsPerConnection: 3, maxOpenStreamsPerKey: 5 } });
    const first = track(await connectMuxProducer(url, KEY_A));
    for (const id of ['a1', 'a2', 'a3']) expect(await open(first, id)).toMatchObject({ ok: true });
    expect(await open(first, 'a4')).toMatchObject(refusal('maxOpenStreamsPerConnection', 3));
    expect(await open(first, 'a1')).toMatchObject({ ok: false, error: { code: 'STREAM_EXISTS' } }); // a held stream is not a new one

    const second = track(await connectMuxProducer(url, KEY_A));
    for (const id of ['a5', 'a6']) expect(await open(second, id)).toMatchObject({ ok: true });
    expect(await open(second, 'a7')).toMatchObject(refusal('maxOpenStreamsPerKey', 5));

    await keyBStreamsNormally(url, 'b-open');

    expect(await first.emitWithAck('mux:end', { streamId: 'a1', reason: 'completed', lastSeq: -1 })).toMatchObject({ ok: true });
    expect(await open(second, 'a7')).toMatchObject({ ok: true });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ss_relay_limit_refusals_total\{limit="maxOpenStreamsPerConnection"\} 1$/m);
    expect(metrics).toMatch(/^ss_relay_limit_refusals_total\{limit="maxOpenStreamsPerKey"\} 1$/m);
  });

  it('a key whose producer vanished keeps its streams counted until they end', async () => {
    const { url } = await startRelay({ limits: { maxOpenStreamsPerKey: 2 }, producerGraceMs: 300 });
    const gone = await connectMuxProducer(url, KEY_A);
    for (const id of ['g1', 'g2']) expect(await open(gone, id)).toMatchObject({ ok: true });
    gone.close();
    const next = track(await connectMuxProducer(url, KEY_A));
    expect(await open(next, 'g3')).toMatchObject(refusal('maxOpenStreamsPerKey', 2));
    // After the grace period the abandoned streams end (producer-disconnected) and free their slots.
    await expect.poll(async () => (await open(next, 'g3')).ok, { timeout: 5_000, interval: 50 }).toBe(true);
  });

  it('stored bytes per stream and per key: QUOTA_EXCEEDED for key A, key B streams on; resends are not counted twice', async () => {
    const { relay, url } = await startRelay({ limits: { maxStreamBytes: 10_000, maxStoredBytesPerKey: 25_000 } });
    const producer = track(await connectMuxProducer(url, KEY_A));
    const kilobyte = 'k'.repeat(1_000);
    expect(await open(producer, 'big')).toMatchObject({ ok: true });
    expect(await write(producer, 'big', 0, Array(9).fill(kilobyte))).toMatchObject({ ok: true });
    expect(await write(producer, 'big', 5, Array(4).fill(kilobyte))).toMatchObject({ ok: true }); // a resend: nothing new
    expect(await write(producer, 'big', 9, Array(2).fill(kilobyte))).toMatchObject(refusal('maxStreamBytes', 10_000));
    expect(await write(producer, 'big', 9, [kilobyte])).toMatchObject({ ok: true }); // exactly at the limit
    expect(await relay.store.info('big')).toMatchObject({ lastSeq: 9 });

    for (const id of ['k2', 'k3']) {
      expect(await open(producer, id)).toMatchObject({ ok: true });
      expect(await write(producer, id, 0, Array(7).fill(kilobyte))).toMatchObject({ ok: true });
    }
    // 10,000 + 7,000 + 7,000 held: 2,000 more would pass 25,000.
    expect(await open(producer, 'k4')).toMatchObject({ ok: true });
    expect(await write(producer, 'k4', 0, Array(2).fill(kilobyte))).toMatchObject(refusal('maxStoredBytesPerKey', 25_000));
    expect(await write(producer, 'k4', 0, [kilobyte])).toMatchObject({ ok: true });

    await keyBStreamsNormally(url, 'b-bytes');
  });

  it('chunks per second per connection: QUOTA_EXCEEDED with retryInMs, then accepted after the wait', async () => {
    const { url } = await startRelay({ limits: { maxChunksPerSecondPerConnection: 1_000 } });
    const producer = track(await connectMuxProducer(url, KEY_A));
    expect(await open(producer, 'fast')).toMatchObject({ ok: true });
    expect(await write(producer, 'fast', 0, Array(1_000).fill('"x"'))).toMatchObject({ ok: true });
    const refused = await write(producer, 'fast', 1_000, Array(500).fill('"x"'));
    expect(refused).toMatchObject(refusal('maxChunksPerSecondPerConnection', 1_000));
    expect(refused.error!.retryInMs).toBeGreaterThan(0);
    expect(refused.error!.retryInMs).toBeLessThanOrEqual(500);
    await new Promise((resolve) => setTimeout(resolve, refused.error!.retryInMs! + 20));
    expect(await write(producer, 'fast', 1_000, Array(500).fill('"x"'))).toMatchObject({ ok: true });
    // Another connection has its own bucket.
    const other = track(await connectMuxProducer(url, KEY_A));
    expect(await open(other, 'other')).toMatchObject({ ok: true });
    expect(await write(other, 'other', 0, Array(900).fill('"x"'))).toMatchObject({ ok: true });
  });

  it("the memory store's byte budget refuses new streams, never evicts old ones, and lets open ones go on", async () => {
    const store = memoryStore({ maxBytes: 20_000 });
    const { url } = await startRelay({ store });
    const producer = track(await connectMuxProducer(url, KEY_A));
    expect(await open(producer, 'old')).toMatchObject({ ok: true });
    expect(await write(producer, 'old', 0, Array(20).fill('m'.repeat(1_000)))).toMatchObject({ ok: true });
    const other = track(await connectMuxProducer(url, KEY_B));
    expect(await open(other, 'new')).toMatchObject(refusal('maxMemoryStoreBytes', 20_000));
    expect(await write(producer, 'old', 20, ['"still open"'])).toMatchObject({ ok: true });
    expect(await store.read('old', 0, 100)).toHaveLength(21);
    // A stream-v1 producer is refused with the same error.
    let refused: Promise<{ code: string }> | undefined;
    const v1 = track(await connectRaw(url, {
      apiKey: KEY_B,
      auth: { role: 'producer', version: 'stream-v1', streamId: 'v1-new' },
      beforeConnect: (socket) => (refused = nextEvent(socket, 'stream:error')),
    }));
    expect(await refused).toMatchObject({ code: 'QUOTA_EXCEEDED', quota: { name: 'maxMemoryStoreBytes', limit: 20_000 } });
    v1.close();
    expect((await (await fetch(`${url}/healthz`)).json()).detail).toContain('20012 bytes');
  });
});
