// The Redis store on a real three-master Redis Cluster the test starts (never the system Redis):
// the shared StreamStore contract through an ioredis `Cluster`, then what a cluster adds — streams
// on every node, Pub/Sub across nodes (cut, and moved when its node dies), the cluster state in
// the health check, and every node going away. The tests that kill nodes come last and start them
// again before they finish.
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useForBlock } from '../../test/support/cleanups.js';
import { redisClusterMissing, startRedisCluster } from '../../test/support/redis-cluster.js';
import { caught, chunksOf } from '../../test/support/store-events.js';
import { until } from '../../test/support/until.js';
import { type RedisStoreOptions, redisStore } from './redis-store.js';
import { describeStreamStoreContract } from './stream-store.contract.js';
import type { StoreEvent, StreamStore } from './stream-store.js';

describe.skipIf(redisClusterMissing)('redis store on a Redis Cluster', () => {
  const cluster = useForBlock(startRedisCluster);
  /** One plain connection per node, by port, for looking at a node directly. */
  const admins = new Map<number, Redis>();
  beforeAll(() => {
    for (const { port } of cluster().nodes) {
      // Fails at once while its node is down (instead of queueing until it is back).
      const admin = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false });
      admin.on('error', () => {}); // nodes are killed on purpose below
      admins.set(port, admin);
    }
  });
  afterAll(async () => {
    for (const admin of admins.values()) admin.disconnect();
  });

  // The same contract as on one Redis, through a Cluster client the caller owns (the store leaves
  // it open, so each store closes its own here). Ids are unique per test, as on one Redis.
  describeStreamStoreContract('redis cluster', (retention) => {
    const client = new Cluster([...cluster().nodes]);
    const store = redisStore({ client, ...retention });
    return {
      ...store,
      async close() {
        await store.close();
        client.disconnect();
      },
    };
  });

  const stores: StreamStore[] = [];
  const clients: Cluster[] = [];
  /** A store that owns its cluster client (what `ss-relay --redis-cluster` runs). */
  const open = (options: Partial<RedisStoreOptions> = {}) => {
    const store = redisStore({ clusterNodes: cluster().nodeList.split(','), ...options });
    stores.push(store);
    return store;
  };
  /** A store on a Cluster client the caller owns. */
  const openOnClient = (options: Partial<RedisStoreOptions> = {}) => {
    const client = new Cluster([...cluster().nodes]);
    clients.push(client);
    return open({ client, ...options });
  };
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) client.disconnect();
  });

  /** Ports of the nodes where a client of this relay is subscribed to a channel. */
  const pubSubNodes = async (): Promise<number[]> => {
    const found: number[] = [];
    for (const [port, admin] of admins) {
      const list = await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub').catch(() => '');
      if (String(list).includes('name=ss-relay')) found.push(port);
    }
    return found;
  };
  /** Writes `count` one-chunk frames to each stream, interleaved, then ends them; `during(seq)` runs before each frame. */
  const produce = async (store: StreamStore, ids: string[], count: number, during: (seq: number) => Promise<void> = async () => {}) => {
    const leases = await Promise.all(ids.map(async (id) => (await store.open(id, 'create')).lease));
    for (let seq = 0; seq < count; seq++) {
      await during(seq);
      await Promise.all(ids.map((id, index) => store.append(id, leases[index]!, seq, [`${id}:${seq}`])));
    }
    await Promise.all(ids.map((id, index) => store.end(id, leases[index]!, 'completed', count - 1)));
  };
  const expected = (id: string, count: number) => Array.from({ length: count }, (_, seq) => `${id}:${seq}`);
  /** Subscribes to each stream and collects its events. */
  const listen = (store: StreamStore, ids: string[]) => {
    const events = new Map<string, StoreEvent[]>(ids.map((id) => [id, []]));
    for (const id of ids) store.subscribe(id, (event) => events.get(id)!.push(event));
    const ended = () => ids.every((id) => events.get(id)!.some((event) => event.type === 'end'));
    return { events, ended };
  };

  it('keeps a stream in one slot, spreads streams over every node and uses the global keys beside them', async () => {
    const store = open();
    const streams = await cluster().idsOnEveryNode('layout');
    expect(new Set(streams.map(({ port }) => port)).size).toBe(3);
    for (const { id, port } of streams) {
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a', 'b']);
      await store.end(id, lease, 'completed', 1);
      const admin = admins.get(port)!;
      expect(await admin.cluster('KEYSLOT', `ss:{${id}}:chunks`)).toBe(await admin.cluster('KEYSLOT', `ss:{${id}}:meta`));
      // The node that owns the slot holds both keys (a plain connection sees only its own node).
      expect(await admin.exists(`ss:{${id}}:meta`, `ss:{${id}}:chunks`)).toBe(2);
      expect(await store.read(id, 0, 10)).toEqual(['a', 'b']);
      expect(await store.info(id)).toEqual({ streamId: id, status: 'ended', lastSeq: 1, endReason: 'completed' });
    }
    const client = new Cluster([...cluster().nodes]);
    try {
      expect(Number(await client.get('ss:lease'))).toBeGreaterThanOrEqual(3);
      for (const { id } of streams) expect(await client.zscore('ss:open', id)).not.toBeNull();
    } finally {
      client.disconnect();
    }
    expect(await store.health()).toMatchObject({ status: 'ok', store: 'redis', detail: expect.stringContaining('CLUSTER INFO ok') });
  });

  it('a store whose cluster cannot be reached fails fast with STORE_UNAVAILABLE, and its health says why', async () => {
    const store = redisStore({ clusterNodes: ['127.0.0.1:1'] });
    stores.push(store);
    const started = Date.now();
    const error = await caught(store.open('unreachable', 'create'));
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.retryInMs).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    const health = await store.health();
    expect(health.status).toBe('degraded');
    expect(health.detail).toContain('127.0.0.1:1 connect ECONNREFUSED');
  });

  it('works with a Cluster client the caller owns and leaves it open', async () => {
    const client = new Cluster([...cluster().nodes]);
    try {
      const store = open({ client });
      const { id } = (await cluster().idsOnEveryNode('owned'))[0]!;
      const { lease } = await store.open(id, 'create');
      await store.append(id, lease, 0, ['a']);
      await store.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  for (const inlineNotifyMaxBytes of [64 * 1024, 0]) {
    it(`delivers appends made through another relay's store, for streams on every node, in order, once (${inlineNotifyMaxBytes ? 'data in the notification' : 'notification + XRANGE'})`, async () => {
      const writer = open({ inlineNotifyMaxBytes });
      const reader = openOnClient({ inlineNotifyMaxBytes });
      const ids = (await cluster().idsOnEveryNode('cross')).map(({ id }) => id);
      const { events, ended } = listen(reader, ids);
      await until(async () => (await pubSubNodes()).length === 1, 'the reader to subscribe');
      await produce(writer, ids, 100);
      await until(ended, 'the end events');
      for (const id of ids) {
        expect(chunksOf(events.get(id)!)).toEqual(expected(id, 100));
        expect(events.get(id)!.at(-1)).toEqual({ type: 'end', streamId: id, info: { streamId: id, status: 'ended', lastSeq: 99, endReason: 'completed' } });
        expect(events.get(id)!.filter((event) => event.type === 'end')).toHaveLength(1);
      }
    });
  }

  it('catches up after its Pub/Sub connection is cut, even when the end was published while it reconnected', async () => {
    const writer = open();
    const reader = open();
    const ids = (await cluster().idsOnEveryNode('cut')).map(({ id }) => id);
    const { events, ended } = listen(reader, ids);
    await until(async () => (await pubSubNodes()).length === 1, 'the reader to subscribe');
    const cut = () => Promise.all([...admins.values()].map((admin) => admin.client('KILL', 'TYPE', 'pubsub')));
    const leases = await Promise.all(ids.map(async (id) => (await writer.open(id, 'create')).lease));
    for (let seq = 0; seq < 100; seq++) {
      if (seq === 50) await cut();
      await Promise.all(ids.map((id, index) => writer.append(id, leases[index]!, seq, [`${id}:${seq}`])));
    }
    await until(() => ids.every((id) => chunksOf(events.get(id)!).length === 100), 'every chunk');
    // The ends are published while the connection is down: only the catch-up after it is back can tell the reader.
    await Promise.all([cut(), ...ids.map((id, index) => writer.end(id, leases[index]!, 'completed', 99))]);
    await until(ended, 'the end events');
    for (const id of ids) {
      expect(chunksOf(events.get(id)!)).toEqual(expected(id, 100));
      expect(events.get(id)!.filter((event) => event.type === 'end')).toHaveLength(1);
    }
  });

  it('moves its Pub/Sub connection to another node when its node dies, and misses nothing', async () => {
    const writer = open();
    const reader = open();
    const streams = await cluster().idsOnEveryNode('moved');
    const { events } = listen(
      reader,
      streams.map(({ id }) => id),
    );
    await until(async () => (await pubSubNodes()).length === 1, 'the reader to subscribe');
    const [dying] = await pubSubNodes();
    // The streams on the surviving nodes are written before, during and after the move.
    const surviving = streams.filter(({ port }) => port !== dying).map(({ id }) => id);
    expect(surviving).toHaveLength(2);
    try {
      // Chunks 50–149 are written while the connection moves (what it misses is caught up), the
      // rest and the ends once it is subscribed on another node.
      await produce(writer, surviving, 200, async (seq) => {
        if (seq === 50) await cluster().kill(dying);
        if (seq === 150) await until(async () => (await pubSubNodes()).length === 1, 'the Pub/Sub connection on another node');
      });
      await until(() => surviving.every((id) => events.get(id)!.some((event) => event.type === 'end')), 'the end events');
      for (const id of surviving) {
        expect(chunksOf(events.get(id)!)).toEqual(expected(id, 200));
        expect(events.get(id)!.filter((event) => event.type === 'end')).toHaveLength(1);
      }
      const now = await pubSubNodes();
      expect(now).toHaveLength(1);
      expect(now[0]).not.toBe(dying);
    } finally {
      await cluster().start(dying);
    }
  });

  it('health follows CLUSTER INFO: degraded while some slots are not served, whose streams get STORE_UNAVAILABLE; ok again once they are', async () => {
    const store = open();
    const [down, up] = await cluster().idsOnEveryNode('health');
    const { lease } = await store.open(up!.id, 'create');
    await store.append(up!.id, lease, 0, ['before']);
    expect((await store.health()).status).toBe('ok');
    const setNodeTimeout = (ms: number) =>
      Promise.all([...admins.values()].map((admin) => admin.config('SET', 'cluster-node-timeout', String(ms)).catch(() => undefined)));
    await setNodeTimeout(500); // so the survivors declare the dead node failed within a second, not 15
    try {
      await cluster().kill(down!.port);
      // Every survivor, not just one: each node marks the failure on its own, and health() asks any of them.
      const survivors = [...admins].filter(([port]) => port !== down!.port).map(([, admin]) => admin);
      await until(
        async () => (await Promise.all(survivors.map((admin) => admin.cluster('INFO')))).every((info) => String(info).includes('cluster_state:fail')),
        'every surviving node to report cluster_state:fail',
      );
      const health = await store.health();
      expect(health).toMatchObject({ status: 'degraded', store: 'redis' });
      expect(health.detail).toMatch(/Redis Cluster/);
      // Even a stream on a live node: the cluster refuses every write while any slot is unserved.
      const refused = await caught(store.append(up!.id, lease, 1, ['during']));
      expect(refused.code).toBe('STORE_UNAVAILABLE');
      expect(refused.retryInMs).toBeGreaterThan(0);
    } finally {
      await cluster().start(down!.port);
      await setNodeTimeout(15_000);
    }
    await until(async () => (await store.health()).status === 'ok', 'health to recover');
    expect(await store.append(up!.id, lease, 1, ['after'])).toEqual({ lastSeq: 1 });
    expect(await store.read(up!.id, 0, 10)).toEqual(['before', 'after']);
  });

  it('fails fast with STORE_UNAVAILABLE while every node is down, then works again', async () => {
    const store = open();
    const { id } = (await cluster().idsOnEveryNode('outage'))[0]!;
    const { lease } = await store.open(id, 'create');
    await store.append(id, lease, 0, ['a']);
    try {
      await cluster().kill();
      for (let attempt = 0; attempt < 2; attempt++) {
        const started = Date.now();
        const error = await caught(store.append(id, lease, 1, ['b']));
        expect(error.code).toBe('STORE_UNAVAILABLE');
        expect(error.retryInMs).toBeGreaterThan(0);
        expect(Date.now() - started).toBeLessThan(3_000);
      }
      expect((await store.health()).status).toBe('degraded');
    } finally {
      await cluster().start();
    }
    // Nothing was persisted (no AOF in this test cluster): the store works again with new streams.
    await until(async () => (await store.health()).status === 'ok', 'health to recover');
    const { id: next } = (await cluster().idsOnEveryNode('after-outage'))[0]!;
    const reopened = await store.open(next, 'create');
    expect(await store.append(next, reopened.lease, 0, ['x'])).toEqual({ lastSeq: 0 });
    expect(await store.read(next, 0, 10)).toEqual(['x']);
  });
});
