// One case list (resumable-stream's documented behaviour), run case by case against the real
// `resumable-stream` 2.2.13 on a private redis-server and against `@ss/ai/server` on a real relay.
import { createRelay, type Relay } from '@ss/relay';
import { Redis } from 'ioredis';
import { createResumableStreamContext as createRedisResumableStreamContext } from 'resumable-stream/generic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerMissing, startRedisServer, type RedisServer } from '../../relay/test/support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { createResumableStreamContext } from '../src/server.js';
import { resumableStreamCases } from './support/resumable-stream-cases.js';
import { collect, controlledSource, uniqueId, until } from './support/streams.js';
import { useSubject } from './support/subjects.js';

const API_KEY = 'test-key-ai-compat';

describe.skipIf(redisServerMissing)('resumable-stream 2.2.13 on Redis (the reference)', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });
  const subject = useSubject('resumable-stream', () => ({ redisUrl: redis?.url }));
  // A difference needing each side's own way of making the producing process unreachable, so it is
  // not in the shared list: resumable-stream's resumers depend on the producer answering over pub/sub.
  it('difference: a resume while the producing process cannot be reached rejects after the one-second ack timeout', async () => {
    const producerPublisher = new Redis(redis?.url as string);
    const producerSubscriber = new Redis(redis?.url as string);
    const resumerPublisher = new Redis(redis?.url as string);
    const resumerSubscriber = new Redis(redis?.url as string);
    try {
      const producing = createRedisResumableStreamContext({ waitUntil: null, publisher: producerPublisher, subscriber: producerSubscriber });
      const resuming = createRedisResumableStreamContext({ waitUntil: null, publisher: resumerPublisher, subscriber: resumerSubscriber });
      const id = uniqueId('unreachable');
      const source = controlledSource();
      const first = collect((await producing.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
      source.push('stored nowhere else');
      await until(() => first.text === 'stored nowhere else', 'the first chunk');
      producerSubscriber.disconnect(); // the producing process is gone for the resumers (never ended: its stream stays open)
      expect(await resuming.hasExistingStream(id)).toBe(true);
      await expect(resuming.resumeExistingStream(id)).rejects.toThrow('Timeout waiting for ack');
    } finally {
      for (const client of [producerPublisher, resumerPublisher, resumerSubscriber]) client.disconnect();
    }
  });
  for (const testCase of resumableStreamCases) it(testCase.name, () => testCase.run(subject()));
});

describe('@ss/ai/server createResumableStreamContext on the relay', () => {
  let relay: Relay | undefined;
  let url = '';
  beforeAll(async () => {
    relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    ({ url } = await relay.listen(0));
  });
  afterAll(async () => {
    await relay?.close();
  });
  const subject = useSubject('@ss/ai', () => ({ relayUrl: url, apiKey: API_KEY }));
  // The same difference on our side: resumers read what the relay stored.
  it('difference: a resume while the producing process cannot be reached reads what the relay stored, then the rest after the producer reconnects', async () => {
    const proxy = await startTcpProxy(Number(new URL(url).port));
    const kept: Promise<unknown>[] = [];
    const producing = createResumableStreamContext({ waitUntil: (promise) => kept.push(promise), relay: { apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 50, retryMaxMs: 200 } });
    const resuming = createResumableStreamContext({ waitUntil: null, relay: { apiKey: API_KEY, baseUrl: url } });
    const id = uniqueId('unreachable');
    const source = controlledSource();
    await producing.createNewResumableStream(id, source.makeStream);
    source.push('stored in the relay');
    await until(async () => (await relay?.store.read(id, 0, 10))?.length === 1, 'the chunk to be stored');
    proxy.pause();
    proxy.dropConnections(); // the producing process cannot reach the relay any more
    const resumed = collect((await resuming.resumeExistingStream(id)) as ReadableStream<string>);
    await until(() => resumed.text === 'stored in the relay', 'the stored chunk, with the producer unreachable');
    source.push(', and the rest');
    source.end();
    proxy.resume(); // the producer reconnects, resends what was not acknowledged, and ends the stream
    expect(await resumed.done).toEqual({ text: 'stored in the relay, and the rest', error: undefined });
    await Promise.all(kept);
    await proxy.close();
  });
  for (const testCase of resumableStreamCases) it(testCase.name, () => testCase.run(subject()));
});

