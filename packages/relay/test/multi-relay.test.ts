// Several relays sharing one Redis (a real redis-server the test starts): readers on any relay,
// a reader moving between relays, and a relay killed with SIGKILL behind a load balancer while
// 50 streams are being produced through it.
import { setTimeout as sleep } from 'node:timers/promises';
import { mintClientToken, type StreamstraightServer, streamstraightServer, teeStream } from '@ss/core';
import { io } from 'socket.io-client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { redisStore } from '../src/index.js';
import { close, useCleanups, useForBlock } from './support/cleanups.js';
import { connectReader, readToEnd } from './support/raw-clients.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { ensureBuiltCli, startRelayProcess } from './support/relay-process.js';
import { startTcpBalancer } from './support/tcp-balancer.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, tokens } from './support/tokens.js';
import { until } from './support/until.js';

const API_KEYS = ['multi-key-0', 'multi-key-1', 'multi-key-2', 'multi-key-3'];
const API_KEY = API_KEYS[0]!;
const later = useCleanups();

/**
 * A reader that survives its relay: on a disconnect, a handshake that does not finish, or a stream
 * that does not exist yet, it connects again through `url` and subscribes from the next seq it
 * needs. Fails on any frame out of order, so "exactly once, in order" is checked on every frame.
 */
async function follow(url: string, streamId: string, timeoutMs = 30_000): Promise<{ data: string[]; end: { reason: string; lastSeq: number }; connections: number }> {
  const token = await mintClientToken({ apiKey: API_KEY, streamIds: [streamId] });
  const data: string[] = [];
  let connections = 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const socket = later(io(url, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 3_000, auth: { role: 'consumer', token } }), close);
    const outcome = await new Promise<{ end: { reason: string; lastSeq: number } } | { retry: true }>((resolve, reject) => {
      // A relay killed during the handshake can leave the client waiting: give up and reconnect.
      const watchdog = setTimeout(() => resolve({ retry: true }), 4_000);
      const retry = () => {
        clearTimeout(watchdog);
        resolve({ retry: true });
      };
      socket.on('connect', () => {
        clearTimeout(watchdog);
        connections++;
        socket
          .timeout(5_000)
          .emitWithAck('consumer:subscribe', { streamId, fromSeq: data.length })
          .then((ack: { ok: boolean }) => {
            if (!ack.ok) retry();
          }, retry);
      });
      socket.on('connect_error', retry);
      socket.on('disconnect', retry);
      socket.on('stream:error', retry);
      socket.on('stream:chunks', (frame: { streamId: string; seq: number; data: string[] }) => {
        if (frame.streamId !== streamId) return;
        if (frame.seq !== data.length) reject(new Error(`${streamId}: frame at seq ${frame.seq}, expected ${data.length}`));
        data.push(...frame.data);
      });
      socket.on('stream:end', (end: { streamId: string; reason: string; lastSeq: number }) => {
        if (end.streamId === streamId) resolve({ end: { reason: end.reason, lastSeq: end.lastSeq } });
      });
    });
    socket.close();
    if ('end' in outcome) return { data, end: outcome.end, connections };
    await sleep(50);
  }
  throw new Error(`${streamId}: no end within ${timeoutMs} ms (got ${data.length} chunks)`);
}

describe.skipIf(redisServerMissing)('several relays, one Redis', () => {
  const redis = useForBlock(() => startRedisServer());
  beforeAll(ensureBuiltCli, 120_000);

  const startRelay = () => startTestRelay(later, { apiKeys: API_KEYS, store: redisStore({ url: redis().url }) });

  it('the producer writes through relay A; readers on A and B get every chunk in order; a reader moving from A to B resumes exactly', async () => {
    const a = await startRelay();
    const b = await startRelay();
    const producer = later(await streamstraightServer({ apiKey: API_KEY, baseUrl: a.url }, { streamId: 'shared' }), (producer) => producer.disconnect());
    const streaming = producer.stream(tokens(3_000, 50, 2));
    await until(async () => (await a.relay.store.info('shared')) !== undefined, 'the stream to open', 15_000);

    const readerA = connectReader(a.url, API_KEY, ['shared']).then((socket) => readToEnd(later(socket, close), 'shared'));
    const readerB = connectReader(b.url, API_KEY, ['shared']).then((socket) => readToEnd(later(socket, close), 'shared'));

    // The mover reads on A until it has 1,000 chunks, leaves, and resumes on B from where it was.
    const moverOnA = later(await connectReader(a.url, API_KEY, ['shared']), close);
    const firstPart: string[] = [];
    await new Promise<void>((resolve, reject) => {
      moverOnA.on('stream:chunks', (frame: { seq: number; data: string[] }) => {
        if (frame.seq !== firstPart.length) reject(new Error(`mover: frame at ${frame.seq}, expected ${firstPart.length}`));
        firstPart.push(...frame.data);
        if (firstPart.length >= 1_000) {
          moverOnA.close();
          resolve();
        }
      });
      void moverOnA.emitWithAck('consumer:subscribe', { streamId: 'shared', fromSeq: 0 });
    });
    const moverOnB = later(await connectReader(b.url, API_KEY, ['shared']), close);
    const secondPart = await readToEnd(moverOnB, 'shared', firstPart.length);

    await streaming;
    const all = encoded(3_000);
    const end = { reason: 'completed', lastSeq: 2_999 };
    expect(await readerA).toMatchObject({ data: all, end });
    expect(await readerB).toMatchObject({ data: all, end });
    expect(firstPart.length).toBeLessThan(3_000); // it really moved mid-stream
    expect([...firstPart, ...secondPart.data]).toEqual(all);
    expect(secondPart.end).toEqual(end);
  });

  it("a reader's cancel on relay B reaches the producer connected to relay A: its abort signal fires (the tee's onCancel), the stream ends cancelled", async () => {
    const a = await startRelay();
    const b = await startRelay();
    const streamId = `remote-cancel-${Date.now()}`;
    const onCancel = vi.fn();
    async function* endless() {
      for (let index = 0; ; index++) {
        await sleep(2);
        yield `t${index}`;
      }
    }
    const tee = teeStream(endless(), { apiKey: API_KEY, baseUrl: a.url, streamId, onCancel });
    const body = new Response(tee.body).text();
    await until(async () => ((await a.relay.store.info(streamId))?.lastSeq ?? -1) >= 20, 'the stream to be under way', 15_000);
    const reader = later(await connectReader(b.url, API_KEY, [streamId], true), close);
    expect(await reader.emitWithAck('consumer:cancel', { streamId, reason: 'stop' })).toMatchObject({ ok: true });
    const result = await tee.done;
    await body;
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onCancel.mock.calls[0]?.[0]).toMatchObject({ code: 'STREAM_CANCELLED' });
    expect(result).toMatchObject({ cancelled: true, relay: 'ok' });
    expect(await b.relay.store.info(streamId)).toMatchObject({ status: 'ended', endReason: 'cancelled' });
  });

  // SIGKILL is a crash; SIGTERM is a rolling deploy (ss-relay closes every connection and the store, then exits 0).
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`failover: relay A gets ${signal} while 50 streams are produced through a balancer; producers finish on B; every reader gets every chunk exactly once`, async () => {
      const redisArgs = ['--redis', redis().url, ...API_KEYS.flatMap((key) => ['--api-key', key])];
      const relayA = later(await startRelayProcess(redisArgs), (relay) => relay.kill('SIGKILL'));
      const relayB = later(await startRelayProcess(redisArgs), (relay) => relay.kill('SIGKILL'));
      const balancer = later(await startTcpBalancer([relayA.port, relayB.port]), close);
      const observer = later(redisStore({ url: redis().url }), close);

      const COUNT = 50;
      const CHUNKS = 600;
      const ids = Array.from({ length: COUNT }, (_, index) => `failover-${signal}-${index}`);
      // One pooled connection per API key: four producer connections, balanced A, B, A, B.
      const handles: StreamstraightServer[] = [];
      for (const [index, streamId] of ids.entries()) {
        const handle = await streamstraightServer(
          { apiKey: API_KEYS[index % API_KEYS.length]!, baseUrl: balancer.url, retries: 20, retryBaseMs: 50, retryMaxMs: 500 },
          { streamId },
        );
        handles.push(later(handle, (handle) => handle.disconnect()));
      }
      expect(balancer.connectionsByTarget.get(relayA.port)).toBe(2);
      expect(balancer.connectionsByTarget.get(relayB.port)).toBe(2);

      const producing = handles.map((handle) => handle.stream(tokens(CHUNKS, 5, 5)));
      // Every stream has readers through the balancer (half of them land on A and must move) and on B.
      const balancedReaders = ids.map((streamId) => follow(balancer.url, streamId));
      const readersOnB = ids.map((streamId) => follow(relayB.url, streamId));

      await until(
        async () => {
          const infos = await Promise.all(ids.map((streamId) => observer.info(streamId)));
          return infos.every((info) => info !== undefined && info.lastSeq >= 60);
        },
        'every stream to be under way',
        15_000,
      );
      await relayA.kill(signal);
      if (signal === 'SIGKILL') expect(relayA.child.signalCode).toBe('SIGKILL');
      else expect({ code: await relayA.exited, output: relayA.output() }).toMatchObject({ code: 0, output: expect.stringContaining('SIGTERM, shutting down') });
      const stillOpen = (await Promise.all(ids.map((streamId) => observer.info(streamId)))).filter((info) => info?.status === 'open');
      expect(stillOpen.length).toBeGreaterThan(0); // killed mid-stream

      await Promise.all(producing);
      const all = encoded(CHUNKS);
      const end = { reason: 'completed', lastSeq: CHUNKS - 1 };
      for (const streamId of ids) {
        expect(await observer.info(streamId)).toEqual({ streamId, status: 'ended', ...{ lastSeq: CHUNKS - 1, endReason: 'completed' } });
        expect(await observer.read(streamId, 0, 10_000)).toEqual(all);
      }
      const balanced = await Promise.all(balancedReaders);
      for (const result of [...balanced, ...(await Promise.all(readersOnB))]) {
        expect(result.data).toEqual(all);
        expect(result.end).toEqual(end);
      }
      // Readers that were on A reconnected to B and resumed.
      expect(balanced.some((result) => result.connections > 1)).toBe(true);
    }, 90_000);
  }
});
