// The relay on the Redis store, against a real redis-server the tests start: bad data already in
// Redis, Redis restarting mid-stream, a stream whose relay died, and the `--redis` CLI.
import { setTimeout as sleep } from 'node:timers/promises';
import { streamstraightServer } from '@ss/core';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { close, useCleanups, useForBlock } from './support/cleanups.js';
import { connectMuxProducer, connectReader, nextEvent, readToEnd } from './support/raw-clients.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { ensureBuiltCli, runRelayProcessToExit, startRelayProcess } from './support/relay-process.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, token } from './support/tokens.js';

const API_KEY = 'test-key-redis';
const later = useCleanups();

const startRelay = (redisUrl: string, options: Parameters<typeof redisStore>[0] = {}) =>
  startTestRelay(later, { apiKeys: [API_KEY], store: redisStore({ url: redisUrl, ...options }) });

const track = <T extends Socket>(socket: T): T => later(socket, close);

describe.skipIf(redisServerMissing)('relay on the Redis store', () => {
  const server = useForBlock(() => startRedisServer({ appendonly: true }));
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(server().url);
    admin.on('error', () => {}); // Redis is killed on purpose below
  });
  afterAll(() => admin?.disconnect());

  it('a foreign key type at a stream key gives a typed error for that stream; the relay keeps serving the others', async () => {
    const { url } = await startRelay(server().url);
    await admin.set('ss:{poisoned}:meta', 'left here by another app');
    await admin.hset('ss:{poisoned-chunks}:meta', 'status', 'open', 'lastSeq', '-1', 'endReason', '', 'gen', '1', 'lease', '1', 'lastWriteAt', '0');
    await admin.set('ss:{poisoned-chunks}:chunks', 'not a stream');
    const producer = track(await connectMuxProducer(url, API_KEY));

    const refused = await producer.emitWithAck('mux:open', { streamId: 'poisoned' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'STREAM_CORRUPT' } });
    expect(refused.error.message).toContain('ss:{poisoned}:meta" holds a string');

    const reader = track(await connectReader(url, API_KEY, ['poisoned', 'poisoned-chunks', 'healthy']));
    const subscribed = await reader.emitWithAck('consumer:subscribe', { streamId: 'poisoned', fromSeq: 0 });
    expect(subscribed).toMatchObject({ ok: false, error: { code: 'STREAM_CORRUPT' } });

    // A stream whose chunks key is foreign: its reader gets a typed stream:error, not a crash.
    const errorEvent = nextEvent<{ streamId: string; code: string }>(reader, 'stream:error');
    await admin.hset('ss:{poisoned-chunks}:meta', 'lastSeq', '3');
    const chunkSubscribe = await reader.emitWithAck('consumer:subscribe', { streamId: 'poisoned-chunks', fromSeq: 0 });
    expect(chunkSubscribe).toMatchObject({ ok: true });
    expect(await errorEvent).toMatchObject({ streamId: 'poisoned-chunks' });

    // Everything else works on the same connections.
    expect(await producer.emitWithAck('mux:open', { streamId: 'healthy' })).toMatchObject({ ok: true });
    const reading = readToEnd(reader, 'healthy');
    expect(await producer.emitWithAck('mux:chunks', { streamId: 'healthy', seq: 0, data: ['a', 'b'] })).toEqual({ ok: true, lastSeq: 1 });
    expect(await producer.emitWithAck('mux:end', { streamId: 'healthy', reason: 'completed', lastSeq: 1 })).toMatchObject({ ok: true });
    expect((await reading).data).toEqual(['a', 'b']);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'redis' });
  });

  it('Redis restarting mid-stream (AOF on): acks stop with STORE_UNAVAILABLE, the producer retries, nothing acknowledged is lost', async () => {
    const { relay, url } = await startRelay(server().url);
    const reader = track(await connectReader(url, API_KEY, ['through-restart']));
    const producer = later(
      await streamstraightServer({ apiKey: API_KEY, baseUrl: url, retries: 30, retryBaseMs: 50, retryMaxMs: 300 }, { streamId: 'through-restart' }),
      (producer) => producer.disconnect(),
    );
    const raw = track(await connectMuxProducer(url, API_KEY));
    expect(await raw.emitWithAck('mux:open', { streamId: 'raw-during-outage' })).toMatchObject({ ok: true });

    let outage: Promise<void> | undefined;
    const streaming = producer.stream(
      (async function* () {
        for (let index = 0; index < 3_000; index++) {
          if (index % 20 === 0) await sleep(1);
          if (index === 1_000) {
            outage = (async () => {
              await server().kill(); // a crash; every acknowledged write was fsynced (appendfsync always)
              const refused = await raw.emitWithAck('mux:chunks', { streamId: 'raw-during-outage', seq: 0, data: ['x'] });
              expect(refused).toMatchObject({ ok: false, error: { code: 'STORE_UNAVAILABLE' } });
              expect(refused.error.retryInMs).toBeGreaterThan(0);
              const health = await fetch(`${url}/healthz`);
              expect(health.status).toBe(503);
              expect(await health.json()).toMatchObject({ status: 'degraded', store: 'redis' });
              await sleep(300);
              await server().start();
            })();
          }
          yield token(index);
        }
      })(),
    );
    while ((await relay.store.info('through-restart')) === undefined) await sleep(5);
    const reading = readToEnd(reader, 'through-restart', 0, 30_000);
    await streaming;
    await outage;
    expect(await relay.store.read('through-restart', 0, 10_000)).toEqual(encoded(3_000));
    expect(await relay.store.info('through-restart')).toEqual({ streamId: 'through-restart', status: 'ended', lastSeq: 2_999, endReason: 'completed' });
    const result = await reading;
    expect(result.data).toEqual(encoded(3_000));
    expect(result.end).toEqual({ reason: 'completed', lastSeq: 2_999 });
    // The raw producer's retry of the refused frame succeeds now.
    expect(await raw.emitWithAck('mux:chunks', { streamId: 'raw-during-outage', seq: 0, data: ['x'] })).toEqual({ ok: true, lastSeq: 0 });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('a stream whose relay died mid-stream is ended by another relay with inactivity-timeout, and its readers are told', async () => {
    const dying = await startRelay(server().url, { inactivityTimeoutMs: 60_000 });
    const survivor = await startRelay(server().url, { inactivityTimeoutMs: 400, sweepIntervalMs: 50 });
    const producer = track(await connectMuxProducer(dying.url, API_KEY));
    expect(await producer.emitWithAck('mux:open', { streamId: 'orphaned' })).toMatchObject({ ok: true });
    expect(await producer.emitWithAck('mux:chunks', { streamId: 'orphaned', seq: 0, data: ['a', 'b', 'c'] })).toEqual({ ok: true, lastSeq: 2 });
    const reader = track(await connectReader(survivor.url, API_KEY, ['orphaned']));
    const reading = readToEnd(reader, 'orphaned');
    // The producer's relay goes away (its grace timers die with it) and the producer never comes back.
    await dying.relay.close();
    const result = await reading;
    expect(result.data).toEqual(['a', 'b', 'c']);
    expect(result.end).toEqual({ reason: 'inactivity-timeout', lastSeq: 2 });
  });

  it('retention: a stream and its chunks are gone ttl after the last write', async () => {
    // 2 s: the keys must still be there when checked right after the end's ack, even on a busy machine.
    const { relay, url } = await startRelay(server().url, { ttlMs: 2_000 });
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'short-lived' });
    await producer.emitWithAck('mux:chunks', { streamId: 'short-lived', seq: 0, data: ['a'] });
    await producer.emitWithAck('mux:end', { streamId: 'short-lived', reason: 'completed', lastSeq: 0 });
    expect(await admin.exists('ss:{short-lived}:meta', 'ss:{short-lived}:chunks')).toBe(2);
    const deadline = Date.now() + 10_000;
    while ((await admin.exists('ss:{short-lived}:meta', 'ss:{short-lived}:chunks')) > 0 && Date.now() < deadline) await sleep(50);
    expect(await relay.store.info('short-lived')).toBeUndefined();
    expect(await admin.exists('ss:{short-lived}:meta', 'ss:{short-lived}:chunks')).toBe(0);
  });
});

describe.skipIf(redisServerMissing)('ss-relay --redis', () => {
  const server = useForBlock(() => startRedisServer());
  beforeAll(ensureBuiltCli, 120_000);

  it('exits 1 with a clear message when Redis cannot be reached', async () => {
    const { code, output } = await runRelayProcessToExit(['--api-key', 'k', '--port', '0', '--redis', 'redis://:hunter2@127.0.0.1:1']);
    expect(code).toBe(1);
    expect(output).toContain('cannot reach Redis at redis://:***@127.0.0.1:1');
    expect(output).toContain('ECONNREFUSED');
    expect(output).not.toContain('hunter2');
  });

  it('--redis-cluster pointed at a Redis that is not a cluster exits 1 and says so', async () => {
    const { code, output } = await runRelayProcessToExit(['--api-key', 'k', '--port', '0', '--redis-cluster', `127.0.0.1:${server().port}`]);
    expect(code).toBe(1);
    expect(output).toContain(`cannot reach the Redis Cluster at 127.0.0.1:${server().port}`);
    expect(output).toContain('cluster support disabled');
  });

  it('serves streams from Redis, with the URL from SS_REDIS_URL, and reports the store on /healthz', async () => {
    const relay = await startRelayProcess(['--api-key', 'cli-key'], { SS_REDIS_URL: server().url });
    try {
      expect(relay.output()).toContain(`Redis store at ${server().url}`);
      const health = await fetch(`${relay.url}/healthz`);
      expect(await health.json()).toMatchObject({ status: 'ok', store: 'redis' });
      const producer = await connectMuxProducer(relay.url, 'cli-key');
      try {
        await producer.emitWithAck('mux:open', { streamId: 'from-cli' });
        expect(await producer.emitWithAck('mux:chunks', { streamId: 'from-cli', seq: 0, data: ['a'] })).toEqual({ ok: true, lastSeq: 0 });
      } finally {
        producer.close();
      }
      const store = redisStore({ url: server().url });
      expect(await store.read('from-cli', 0, 10)).toEqual(['a']);
      await store.close();
    } finally {
      await relay.kill();
    }
  });
});
