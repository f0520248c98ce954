// The Durable Streams conformance suite (@durable-streams/server-conformance-tests, the protocol's
// own tests) against the relay's /ds face: once on the memory store, once on Redis with two relays
// sharing one redis-server behind a round-robin TCP balancer (connections land on either relay).
//
// Every conformance test must pass (the relay fails none of them); a last check per store also
// verifies that the whole suite ran (so a suite upgrade that adds or drops tests is noticed) and
// names every failed conformance test in one list.
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay, memoryStore, redisStore } from '../src/index.js';
import { type RedisServer, redisServerMissing, startRedisServer } from './support/redis-server.js';
import { type TcpBalancer, startTcpBalancer } from './support/tcp-balancer.js';

/** How many tests the suite (version 0.3.6) runs without its opt-in subscription tests. */
const SUITE_SIZE = 332;

const durableStreams = { access: 'open' as const, longPollTimeoutMs: 2_000 };

function conformance(name: string, start: () => Promise<{ baseUrl: string; stop(): Promise<void> }>) {
  describe(`Durable Streams conformance: ${name}`, () => {
    const config = { baseUrl: '' };
    let stop: (() => Promise<void>) | undefined;
    const outcomes = new Map<string, string>();
    beforeAll(async () => {
      const started = await start();
      config.baseUrl = started.baseUrl;
      stop = started.stop;
    }, 60_000);
    afterAll(async () => {
      await stop?.();
    });
    afterEach((context) => {
      // Full names read "<file> > <this block> > suite > <conformance group> > <test>".
      const marker = ' > suite > ';
      const at = context.task.fullName.indexOf(marker);
      if (at >= 0) outcomes.set(context.task.fullName.slice(at + marker.length), context.task.result?.state ?? 'unknown');
    });
    describe('suite', () => {
      runConformanceTests(config);
    });
    it(`ran all ${SUITE_SIZE} conformance tests and every one passed`, () => {
      const failed = [...outcomes].filter(([, state]) => state !== 'pass').map(([test, state]) => `${test} (${state})`);
      expect(failed, 'conformance tests that did not pass').toEqual([]);
      expect(outcomes.size).toBe(SUITE_SIZE);
    });
  });
}

conformance('memory store', async () => {
  const relay = createRelay({ apiKeys: ['conformance-key'], store: memoryStore(), log: () => {}, durableStreams });
  const { url } = await relay.listen(0);
  return { baseUrl: `${url}/ds`, stop: () => relay.close() };
});

describe.skipIf(redisServerMissing)('on Redis', () => {
  conformance('Redis store, two relays', async () => {
    const redis: RedisServer = await startRedisServer();
    const relays: Relay[] = [0, 1].map(() =>
      createRelay({ apiKeys: ['conformance-key'], store: redisStore({ url: redis.url }), log: () => {}, durableStreams }),
    );
    const ports = await Promise.all(relays.map(async (relay) => (await relay.listen(0)).port));
    const balancer: TcpBalancer = await startTcpBalancer(ports);
    return {
      baseUrl: `${balancer.url}/ds`,
      async stop() {
        // Both relays must have served connections, or this was not a two-relay run.
        const served = ports.map((port) => balancer.connectionsByTarget.get(port) ?? 0);
        await balancer.close();
        await Promise.all(relays.map((relay) => relay.close()));
        await redis.stop();
        if (served.some((count) => count === 0)) throw new Error(`one relay served no connection: ${served.join(', ')}`);
      },
    };
  });
});
