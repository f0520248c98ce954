// Backpressure to every reader: a reader whose TCP socket stops reading (the real socket, paused)
// holds at most its budget in the relay, is dropped with SLOW_READER once its queue makes no
// progress, and resumes exactly once — every chunk once, in order — when it reads again. The relay
// runs as its own process (the built CLI) so its resident memory is its own.
import type { Socket as TcpSocket } from 'node:net';
import { mintClientToken } from '@ss/core';
import { io, type Socket } from 'socket.io-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer } from './support/raw-clients.js';
import { ensureBuiltCli, startRelayProcess } from './support/relay-process.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-slow-reader';
const later = useCleanups();
const BUDGET = 1024 * 1024;
const CHUNK = `"${'x'.repeat(1_022)}"`; // 1 KiB once encoded

beforeAll(ensureBuiltCli, 120_000);

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, (character) => `\\${character}`)} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

const rss = (url: string) => metric(url, 'ss_relay_process_resident_memory_bytes');

/** Writes `count` 1 KiB chunks to `streamId` in frames of 200, from `from`. */
async function write(producer: Socket, streamId: string, from: number, count: number): Promise<void> {
  for (let seq = from; seq < from + count; seq += 200) {
    const ack = await producer.timeout(20_000).emitWithAck('mux:chunks', { streamId, seq, data: Array.from({ length: Math.min(200, from + count - seq) }, () => CHUNK) });
    expect(ack).toMatchObject({ ok: true });
  }
}

/**
 * A reader that resumes like `@ss/client` does: the handshake subscribes from the next chunk it
 * needs; on a drop it reconnects by itself and subscribes again from there. It checks that every
 * chunk arrives once, in order.
 */
function resumingReader(url: string, token: string, streamId: string) {
  let next = 0;
  let outOfOrder = 0;
  const connects: number[] = [];
  const errors: string[] = [];
  let ended = false;
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    auth: (callback) => callback({ role: 'consumer', token, subscribe: { streamId, fromSeq: next } }),
  });
  socket.on('connect', () => connects.push(next));
  socket.on('stream:chunks', (frame: { seq: number; data: string[] }) => {
    if (frame.seq !== next) outOfOrder++;
    else next += frame.data.length;
  });
  socket.on('stream:end', () => {
    ended = true;
  });
  socket.on('connection:error', (error: { code: string }) => errors.push(error.code));
  return {
    socket,
    get next() {
      return next;
    },
    get outOfOrder() {
      return outOfOrder;
    },
    get ended() {
      return ended;
    },
    connects,
    errors,
    /** The reader's TCP socket (engine.io-client's `ws` keeps it in `_socket`). */
    tcp(): TcpSocket {
      const transport = socket.io.engine.transport as unknown as { ws?: { _socket?: TcpSocket } };
      const tcp = transport.ws?._socket;
      if (!tcp) throw new Error('no TCP socket under the reader');
      return tcp;
    },
    close: () => socket.close(),
  };
}

describe('a reader that stops reading', () => {
  it('live: it is moved to paced reads, dropped with SLOW_READER, and resumes exactly once; relay memory stays bounded', async () => {
    const relay = later(
      // 40 MiB in one stream: over the default maxStreamBytes (32 MiB).
      await startRelayProcess(['--api-key', API_KEY, '--max-queued-bytes-per-reader', String(BUDGET), '--slow-reader-timeout', '2s', '--max-stream-bytes', String(64 * 2 ** 20)]),
      (process) => process.kill('SIGKILL'),
    );
    const producer = later(await connectMuxProducer(relay.url, API_KEY), close);
    expect(await producer.emitWithAck('mux:open', { streamId: 'live' })).toMatchObject({ ok: true });
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['live'] });
    const healthy = later(resumingReader(relay.url, token, 'live'), close);
    const paused = later(resumingReader(relay.url, token, 'live'), close);
    await until(() => healthy.connects.length === 1 && paused.connects.length === 1, 'both readers connected');
    await write(producer, 'live', 0, 200);
    await until(() => paused.next === 200, 'the first chunks on the paused reader');
    const before = await rss(relay.url);

    paused.tcp().pause(); // the real TCP socket stops reading: the relay's writes pile up behind it
    const total = 40_000; // 40 MiB: far more than the kernel buffers of both sides hold
    await write(producer, 'live', 200, total - 200);
    await until(() => healthy.next === total, 'the healthy reader to have every chunk', 30_000);
    const during = await rss(relay.url);
    // The store holds the 40 MiB once; the paused reader adds at most its budget, plus garbage not yet
    // collected (measured: 72-76 MiB in all; with reads ahead instead of paced, 139 MiB).
    expect(during - before, `relay RSS grew by ${((during - before) / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(total * 1024 + 56 * 2 ** 20);
    expect(await metric(relay.url, 'ss_relay_readers_paced_total')).toBeGreaterThanOrEqual(1);
    await until(async () => (await metric(relay.url, 'ss_relay_limit_refusals_total{limit="slowReaderTimeoutMs"}')) === 1, 'the paused reader to be dropped', 20_000);
    expect(healthy.connects).toHaveLength(1); // the healthy reader was never touched

    paused.tcp().resume();
    await until(() => paused.next === total, 'the resumed reader to have every chunk', 30_000);
    expect(paused.connects).toEqual([paused.connects[0], expect.any(Number)]); // exactly one reconnect
    expect(paused.connects[1]).toBeGreaterThan(200); // from where it was, not from 0
    expect(paused.outOfOrder).toBe(0);
    expect(paused.errors).toEqual(['SLOW_READER']);
    expect(await producer.emitWithAck('mux:end', { streamId: 'live', reason: 'completed', lastSeq: total - 1 })).toMatchObject({ ok: true });
    await until(() => paused.ended && healthy.ended, 'the end on both readers');
  }, 60_000);

  it('catch-up: four readers that stop reading while catching up on a 20 MiB stream hold their budget, not the stream', async () => {
    const relay = later(
      await startRelayProcess(['--api-key', API_KEY, '--max-queued-bytes-per-reader', String(BUDGET), '--slow-reader-timeout', '2s']),
      (process) => process.kill('SIGKILL'),
    );
    const producer = later(await connectMuxProducer(relay.url, API_KEY), close);
    expect(await producer.emitWithAck('mux:open', { streamId: 'long' })).toMatchObject({ ok: true });
    const total = 20_000;
    await write(producer, 'long', 0, total);
    expect(await producer.emitWithAck('mux:end', { streamId: 'long', reason: 'completed', lastSeq: total - 1 })).toMatchObject({ ok: true });
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['long'] });
    const before = await rss(relay.url);

    const readers = Array.from({ length: 4 }, () => later(resumingReader(relay.url, token, 'long'), close));
    // Paused as soon as connected: the handshake subscription has started the catch-up.
    for (const reader of readers) reader.socket.once('connect', () => reader.tcp().pause());
    await until(() => readers.every((reader) => reader.connects.length === 1), 'the readers connected');
    await until(async () => (await metric(relay.url, 'ss_relay_limit_refusals_total{limit="slowReaderTimeoutMs"}')) === 4, 'the four readers dropped', 20_000);
    const during = await rss(relay.url);
    // Read ahead, each would hold the whole 20 MiB stream: 80 MiB. Paced, each holds at most its budget
    // (measured: 7.5-8.6 MiB in all).
    expect(during - before, `relay RSS grew by ${((during - before) / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(4 * BUDGET + 32 * 2 ** 20);

    for (const reader of readers) reader.tcp().resume();
    await until(() => readers.every((reader) => reader.ended), 'every reader to read to the end', 30_000);
    for (const reader of readers) {
      expect(reader.next).toBe(total);
      expect(reader.outOfOrder).toBe(0);
      expect(reader.connects).toHaveLength(2);
    }
  }, 60_000);
});
