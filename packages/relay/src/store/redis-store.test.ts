// The Redis store against a real redis-server started on a free port: the shared StreamStore
// contract, then what only a shared, remote store has to get right (several stores on one Redis,
// lost Pub/Sub messages, reused ids, dead relays, foreign data, Redis going away).
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useForBlock } from '../../test/support/cleanups.js';
import { redisServerMissing, startRedisServer } from '../../test/support/redis-server.js';
import { caught, chunksOf } from '../../test/support/store-events.js';
import { until } from '../../test/support/until.js';
import { type RedisStoreOptions, redisStore } from './redis-store.js';
import { describeStreamStoreContract } from './stream-store.contract.js';
import type { StoreEvent, StreamStore } from './stream-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `store` follows `id` as another relay's store would: the baseline its subscribe()
 * read (an HMGET on its command connection) is answered, and Redis has its SUBSCRIBE. Only what is
 * written after that is delivered as live events; a write that reached Redis before the baseline is
 * taken as history. (A fixed sleep raced both on a busy machine, where a fresh store's connections
 * can take longer than that to come up.)
 */
async function following(store: StreamStore, id: string, url: string): Promise<void> {
  await store.info(id); // queued behind the baseline HMGET on the same connection
  const probe = new Redis(url);
  try {
    await until(async () => Number(((await probe.pubsub('NUMSUB', `ss:{${id}}:events`)) as unknown[])[1]) > 0, `the SUBSCRIBE for ${id}`);
  } finally {
    probe.disconnect();
  }
}

describe.skipIf(redisServerMissing)('redis store', () => {
  const server = useForBlock(() => startRedisServer());
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(server().url);
  });
  afterAll(() => admin?.disconnect());

  describeStreamStoreContract('redis', (retention) => redisStore({ url: server().url, ...retention }));

  const stores: StreamStore[] = [];
  const open = (options: Partial<RedisStoreOptions> = {}) => {
    const store = redisStore({ url: server().url, ...options });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  let counter = 0;
  const uniqueId = (label: string) => `${label}-${process.pid}-${counter++}`;

  it('keeps a stream in two hash-tagged keys with the seq as entry ID and a TTL on both', async () => {
    const store = open({ ttlMs: 60_000 });
    const id = uniqueId('layout');
    const { lease } = await store.open(id, 'create');
    await store.append(id, lease, 0, ['a', 'b']);
    expect(await admin.type(`ss:{${id}}:chunks`)).toBe('stream');
    expect(await admin.type(`ss:{${id}}:meta`)).toBe('hash');
    const entries = await admin.xrange(`ss:{${id}}:chunks`, '-', '+');
    expect(entries).toEqual([
      ['0-1', ['d', 'a']],
      ['1-1', ['d', 'b']],
    ]);
    expect(await admin.hgetall(`ss:{${id}}:meta`)).toMatchObject({ status: 'open', lastSeq: '1', lease: String(lease) });
    for (const key of [`ss:{${id}}:chunks`, `ss:{${id}}:meta`]) {
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('keeps strings exactly, including multi-byte characters, empty strings and JSON', async () => {
    const store = open();
    const id = uniqueId('bytes');
    const data = ['', 'héllo wörld ✓', '🦄 emoji', '{"json":["a\\"b",1]}', 'line\nbreak\ttab', 'x'.repeat(100_000)];
    const { lease } = await store.open(id, 'create');
    await store.append(id, lease, 0, data);
    expect(await store.read(id, 0, 100)).toEqual(data);
  });

  for (const inlineNotifyMaxBytes of [64 * 1024, 0]) {
    it(`delivers appends made through another relay's store in order, once (${inlineNotifyMaxBytes ? 'data in the notification' : 'notification + XRANGE'})`, async () => {
      const writer = open({ inlineNotifyMaxBytes });
      const reader = open({ inlineNotifyMaxBytes });
      const id = uniqueId('cross');
      const events: StoreEvent[] = [];
      reader.subscribe(id, (event) => events.push(event));
      await following(reader, id, server().url);
      const { lease } = await writer.open(id, 'create');
      const expected: string[] = [];
      for (let seq = 0; seq < 200; seq += 4) {
        const frame = [0, 1, 2, 3].map((offset) => `chunk-${seq + offset}`);
        expected.push(...frame);
        await writer.append(id, lease, seq, frame);
      }
      await writer.end(id, lease, 'completed', 199);
      await until(() => events.some((event) => event.type === 'end'), 'the end event');
      expect(chunksOf(events)).toEqual(expected);
      expect(events.at(-1)).toEqual({ type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 199, endReason: 'completed' } });
      expect(events.filter((event) => event.type === 'end')).toHaveLength(1);
    });
  }

  it('catches up after its Pub/Sub connection is cut mid-stream: nothing lost, nothing twice', async () => {
    const writer = open();
    const reader = open();
    const id = uniqueId('cut');
    const events: StoreEvent[] = [];
    reader.subscribe(id, (event) => events.push(event));
    await following(reader, id, server().url);
    const { lease } = await writer.open(id, 'create');
    for (let seq = 0; seq < 300; seq++) {
      await writer.append(id, lease, seq, [`c${seq}`]);
      if (seq === 100 || seq === 200) await admin.client('KILL', 'TYPE', 'pubsub');
    }
    await writer.end(id, lease, 'completed');
    await until(() => events.some((event) => event.type === 'end'), 'the end event');
    expect(chunksOf(events)).toEqual(Array.from({ length: 300 }, (_, seq) => `c${seq}`));
  });

  it('a listener of a reused id follows the new stream from seq 0', async () => {
    const writer = open();
    const reader = open();
    const id = uniqueId('reuse');
    const { lease } = await writer.open(id, 'create');
    await writer.append(id, lease, 0, ['old-0', 'old-1']);
    const events: StoreEvent[] = [];
    reader.subscribe(id, (event) => events.push(event));
    await following(reader, id, server().url);
    await writer.append(id, lease, 2, ['old-2']);
    await until(() => events.length === 1, 'old-2');
    const replaced = await writer.open(id, 'overwrite');
    await writer.append(id, replaced.lease, 0, ['new-0']);
    await writer.end(id, replaced.lease, 'completed');
    await until(() => events.some((event) => event.type === 'end'), 'the end event');
    expect(events).toEqual([
      { type: 'chunks', streamId: id, seq: 2, data: ['old-2'] },
      { type: 'chunks', streamId: id, seq: 0, data: ['new-0'] },
      { type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 0, endReason: 'completed' } },
    ]);
  });

  it('fences across relays: the producer that re-opened through another relay wins', async () => {
    const relayA = open();
    const relayB = open();
    const id = uniqueId('fence');
    const first = await relayA.open(id, 'create');
    await relayA.append(id, first.lease, 0, ['a']);
    const second = await relayB.open(id, 'resume');
    expect(second.info.lastSeq).toBe(0);
    expect((await caught(relayA.append(id, first.lease, 1, ['stale']))).code).toBe('LEASE_LOST');
    expect(await relayB.append(id, second.lease, 0, ['a', 'b'])).toEqual({ lastSeq: 1 });
    expect(await relayA.read(id, 0, 10)).toEqual(['a', 'b']);
  });

  it('another relay ends a stream whose relay died with inactivity-timeout, and tells its listeners', async () => {
    const dying = open({ inactivityTimeoutMs: 60_000 });
    const id = uniqueId('orphan');
    const { lease } = await dying.open(id, 'create');
    await dying.append(id, lease, 0, ['a']);
    await dying.close(); // the relay that held the producer is gone

    const survivor = open({ inactivityTimeoutMs: 300, sweepIntervalMs: 50 });
    const events: StoreEvent[] = [];
    survivor.subscribe(id, (event) => events.push(event));
    await until(() => events.some((event) => event.type === 'end'), 'the inactivity end');
    expect(events).toEqual([{ type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 0, endReason: 'inactivity-timeout' } }]);
    expect(await survivor.info(id)).toEqual({ streamId: id, status: 'ended', lastSeq: 0, endReason: 'inactivity-timeout' });
    // Swept streams leave the set of open streams.
    await until(async () => (await admin.zscore('ss:open', id)) === null, 'the sweep to forget it');
  });

  it('does not time out a stream that keeps being written, even with many relays sweeping', async () => {
    // Writes every ~100 ms for 2 s against an 800 ms timeout: a busy machine may stretch one pause
    // by several hundred ms without the stream looking idle.
    const writer = open({ inactivityTimeoutMs: 800, sweepIntervalMs: 30 });
    open({ inactivityTimeoutMs: 800, sweepIntervalMs: 30 });
    const id = uniqueId('busy');
    const { lease } = await writer.open(id, 'create');
    for (let seq = 0; seq < 20; seq++) {
      await writer.append(id, lease, seq, [`c${seq}`]);
      await sleep(100);
    }
    expect((await writer.info(id))?.status).toBe('open');
    await writer.end(id, lease, 'completed');
  });

  it('a key of a foreign type at a stream key is a typed error for that stream, never a crash', async () => {
    const store = open();
    const poisoned = uniqueId('poisoned');
    await admin.set(`ss:{${poisoned}}:meta`, 'not a hash');
    for (const attempt of [() => store.open(poisoned, 'create'), () => store.info(poisoned), () => store.end(poisoned, null, 'cancelled')]) {
      const error = await caught(attempt());
      expect(error.code).toBe('STREAM_CORRUPT');
      expect(error.message).toContain(`Stream "${poisoned}" cannot be used`);
      expect(error.retryInMs).toBeUndefined();
    }
    expect((await caught(store.open(poisoned, 'create'))).message).toContain(`ss:{${poisoned}}:meta" holds a string`);

    const brokenChunks = uniqueId('broken-chunks');
    const { lease } = await store.open(brokenChunks, 'create');
    await admin.rpush(`ss:{${brokenChunks}}:chunks`, 'a list');
    expect((await caught(store.append(brokenChunks, lease, 0, ['a']))).code).toBe('STREAM_CORRUPT');
    expect((await caught(store.read(brokenChunks, 0, 10))).code).toBe('STREAM_CORRUPT');

    const strangeHash = uniqueId('strange-hash');
    await admin.hset(`ss:{${strangeHash}}:meta`, 'status', 'weird');
    expect((await caught(store.info(strangeHash))).code).toBe('STREAM_CORRUPT');

    // The store still serves every other stream.
    const healthy = uniqueId('healthy');
    const opened = await store.open(healthy, 'create');
    await store.append(healthy, opened.lease, 0, ['fine']);
    expect(await store.read(healthy, 0, 10)).toEqual(['fine']);
    expect((await store.health()).status).toBe('ok');
  });

  it('refuses a keyPrefix with braces and a missing url', () => {
    expect(() => redisStore({ url: server().url, keyPrefix: 'a{b}' })).toThrow(/keyPrefix/);
    expect(() => redisStore({})).toThrow(/url/);
  });

  it('uses the key prefix for every key', async () => {
    const store = open({ keyPrefix: 'tenant-7:' });
    const id = uniqueId('prefixed');
    const { lease } = await store.open(id, 'create');
    await store.append(id, lease, 0, ['a']);
    expect(await admin.exists(`tenant-7:{${id}}:meta`, `tenant-7:{${id}}:chunks`)).toBe(2);
    expect(await admin.exists(`ss:{${id}}:meta`)).toBe(0);
  });

  it('works with a client the caller owns and leaves it open', async () => {
    const client = new Redis(server().url);
    try {
      const store = open({ client });
      const id = uniqueId('owned');
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      await store.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});

describe.skipIf(redisServerMissing)('redis store when Redis goes away (AOF on)', () => {
  const server = useForBlock(() => startRedisServer({ appendonly: true }));

  it('fails fast with STORE_UNAVAILABLE while Redis is down, then works again and has every acknowledged chunk', async () => {
    const store = redisStore({ url: server().url });
    const reader = redisStore({ url: server().url });
    try {
      const id = `outage-${process.pid}`;
      const events: StoreEvent[] = [];
      reader.subscribe(id, (event) => events.push(event));
      await following(reader, id, server().url);
      const { lease } = await store.open(id, 'create');
      for (let seq = 0; seq < 50; seq++) await store.append(id, lease, seq, [`c${seq}`]);

      await server().kill(); // a crash: only what was fsynced (every acknowledged write, appendfsync always) survives
      const started = Date.now();
      const error = await caught(store.append(id, lease, 50, ['c50']));
      expect(error.code).toBe('STORE_UNAVAILABLE');
      expect(error.retryInMs).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((await caught(store.info(id))).code).toBe('STORE_UNAVAILABLE');
      expect((await store.health()).status).toBe('degraded');

      await server().start();
      // The producer's retry: the same frame again until Redis is back.
      let acked: { lastSeq: number } | undefined;
      await until(async () => {
        acked = await store.append(id, lease, 50, ['c50']).catch(() => undefined);
        return acked !== undefined;
      }, 'Redis to come back');
      expect(acked).toEqual({ lastSeq: 50 });
      for (let seq = 51; seq < 100; seq++) await store.append(id, lease, seq, [`c${seq}`]);
      await store.end(id, lease, 'completed', 99);
      expect(await store.read(id, 0, 1000)).toEqual(Array.from({ length: 100 }, (_, seq) => `c${seq}`));
      await until(async () => (await store.health()).status === 'ok', 'health to recover');

      // A listener on another relay saw every chunk once, in order, across the outage.
      await until(() => events.some((event) => event.type === 'end'), 'the end event');
      expect(chunksOf(events)).toEqual(Array.from({ length: 100 }, (_, seq) => `c${seq}`));
    } finally {
      await store.close();
      await reader.close();
    }
  });
});
