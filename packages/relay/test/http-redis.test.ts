// The HTTP face over the Redis store with two relays: an SSE reader on relay B of a stream written
// on relay A (by a Socket.IO producer and by the HTTP producer), and an HTTP producer whose batches
// alternate between the relays.
import { mintClientToken, streamstraightServer } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { close, useCleanups, useForBlock } from './support/cleanups.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { expectConsecutive, readSse } from './support/sse-reader.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, tokens } from './support/tokens.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-http-redis';
const later = useCleanups();

describe.skipIf(redisServerMissing)('HTTP face on the Redis store, two relays', () => {
  const redis = useForBlock(() => startRedisServer());
  const startRelay = () => startTestRelay(later, { apiKeys: [API_KEY], store: redisStore({ url: redis().url }) });

  it('an SSE reader on relay B, cut twice, reads a stream a Socket.IO producer writes on relay A: each chunk once', async () => {
    const a = await startRelay();
    const b = await startRelay();
    const proxyToB = later(await startTcpProxy(b.port), close);
    const producer = later(await streamstraightServer({ apiKey: API_KEY, baseUrl: a.url }, { streamId: 'across' }), (handle) => handle.disconnect());
    const writing = producer.stream(tokens(800, 20, 10));
    await until(async () => (await fetch(`${b.url}/v1/streams/across`, { headers: { authorization: `Bearer ${API_KEY}` } })).status === 200, 'the stream on B');
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['across'] });
    const read = later(readSse(`${proxyToB.url}/v1/streams/across/events?token=${token}`), close);
    for (let cut = 1; cut <= 2; cut++) {
      const before = read.events.length;
      await until(() => read.events.length > before + 50 || read.end !== undefined, `chunks before cut ${cut}`);
      proxyToB.dropConnections();
    }
    await writing;
    const events = await read.done;
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(encoded(800));
    expect(read.end).toEqual({ reason: 'completed', lastSeq: 799 });
    expect(read.connections).toBeGreaterThanOrEqual(3);
  });

  it('an HTTP producer whose batches alternate between relays A and B: one stream, no duplicate, read live on B', async () => {
    const a = await startRelay();
    const b = await startRelay();
    const post = (base: string, path: string, body: unknown) =>
      fetch(`${base}/v1/streams/${path}`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { lease } = (await (await post(a.url, 'alternating/open', {})).json()) as { lease: number };
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['alternating'] });
    const read = later(readSse(`${b.url}/v1/streams/alternating/events`, { token }), close);
    for (let batch = 0; batch < 20; batch++) {
      const relay = batch % 2 === 0 ? a : b;
      const data = Array.from({ length: 5 }, (_, index) => JSON.stringify(`b${batch}-${index}`));
      const answer = await post(relay.url, 'alternating/chunks', { lease, seq: batch * 5, data });
      expect(await answer.json()).toEqual({ lastSeq: batch * 5 + 4 });
      // Every other batch is sent again to the other relay, as after a lost answer.
      if (batch % 2 === 1) expect(await (await post(a.url, 'alternating/chunks', { lease, seq: batch * 5, data })).json()).toEqual({ lastSeq: batch * 5 + 4 });
    }
    expect((await post(b.url, 'alternating/end', { lease, lastSeq: 99 })).status).toBe(200);
    const events = await read.done;
    expectConsecutive(events);
    expect(events).toHaveLength(100);
    expect(events[99]?.data).toBe(JSON.stringify('b19-4'));
  });
});
