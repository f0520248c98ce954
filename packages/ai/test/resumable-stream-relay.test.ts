// What @ss/ai/server's resumable-stream context adds over resumable-stream, against real relays:
// acknowledged and stored chunks, readers on another relay node, a reader's cancel reaching the
// producer's AbortController, finished streams read from any offset, the relay down, bad input.
import { API_KEY_ENV, createResumableStreamContext, type CreateResumableStreamContextOptions, type ResumableStreamContext, StreamstraightError } from '../src/server.js';
import { createRelay, type Relay, redisStore } from '@ss/relay';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort, redisServerMissing, startRedisServer, type RedisServer } from '../../relay/test/support/redis-server.js';
import { collect, controlledSource, uniqueId, until } from './support/streams.js';

const API_KEY = 'test-key-ai-relay';

const relays: Relay[] = [];
const kept: Promise<unknown>[] = [];
afterEach(async () => {
  // A failed test may leave a producer waiting on its source: do not wait for it forever.
  await Promise.race([Promise.allSettled(kept.splice(0)), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  vi.unstubAllEnvs();
});
afterAll(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
});

async function startRelay(options: Partial<Parameters<typeof createRelay>[0]> = {}): Promise<{ relay: Relay; url: string }> {
  const relay = createRelay({ apiKeys: [API_KEY], log: () => {}, ...options });
  relays.push(relay);
  const { url } = await relay.listen(0);
  return { relay, url };
}

function context(url: string, options: Partial<CreateResumableStreamContextOptions> = {}): { context: ResumableStreamContext; errors: StreamstraightError[] } {
  const errors: StreamstraightError[] = [];
  const made = createResumableStreamContext({
    waitUntil: (promise) => {
      kept.push(promise);
    },
    relay: { apiKey: API_KEY, baseUrl: url },
    onError: (error) => errors.push(error),
    ...options,
  });
  return { context: made, errors };
}

async function caught(promise: Promise<unknown>): Promise<StreamstraightError> {
  try {
    await promise;
  } catch (error) {
    expect(StreamstraightError.isInstance(error)).toBe(true);
    return error as StreamstraightError;
  }
  throw new Error('expected a rejection');
}

describe('@ss/ai/server createResumableStreamContext: beyond resumable-stream', () => {
  let shared: { relay: Relay; url: string };
  beforeAll(async () => {
    shared = await startRelay();
  });

  it('every chunk is acknowledged and stored by the relay, one relay chunk per string, as given', async () => {
    const { context: streams, errors } = context(shared.url);
    const id = uniqueId('stored');
    const source = controlledSource();
    await streams.createNewResumableStream(id, source.makeStream);
    const chunks = ['data: {"type":"start"}\n\n', 'data: {"type":"text-delta","delta":"é 🚀"}\n\n', '', 'data: [DONE]\n\n'];
    for (const chunk of chunks) source.push(chunk);
    source.end();
    await Promise.all(kept);
    expect(await shared.relay.store.info(id)).toMatchObject({ status: 'ended', endReason: 'completed', lastSeq: 2 });
    expect(await shared.relay.store.read(id, 0, 10)).toEqual(chunks.filter((chunk) => chunk !== ''));
    expect(errors).toEqual([]);
  });

  it('cancelStream: the producer’s abortController aborts, its source is cancelled, the stream ends cancelled and resumers close', async () => {
    const { context: streams } = context(shared.url);
    const id = uniqueId('cancel');
    const source = controlledSource();
    const abortController = new AbortController();
    const first = collect((await streams.createNewResumableStream(id, source.makeStream, undefined, { abortController })) as ReadableStream<string>);
    source.push('partial ');
    const resumed = collect((await streams.resumeExistingStream(id)) as ReadableStream<string>);
    await until(() => resumed.text === 'partial ', 'the resumer to catch up');

    // From another context, as another process would (any relay node, no shared memory).
    await context(shared.url).context.cancelStream(id, 'the user pressed stop');
    await until(() => abortController.signal.aborted, 'the abort signal');
    expect((abortController.signal.reason as StreamstraightError).code).toBe('STREAM_CANCELLED');
    await source.cancelled;
    expect(await resumed.done).toEqual({ text: 'partial ', error: undefined });
    expect(await first.done).toEqual({ text: 'partial ', error: undefined });
    await until(async () => (await streams.hasExistingStream(id)) === 'DONE', 'DONE');
    expect(await shared.relay.store.info(id)).toMatchObject({ status: 'ended', endReason: 'cancelled' });

    await streams.cancelStream(id); // a finished stream: nothing to do
    expect((await caught(streams.cancelStream(uniqueId('unknown')))).code).toBe('STREAM_NOT_FOUND');
  });

  it('resumeFinishedStreams: a finished stream is read from any offset instead of null', async () => {
    const { context: streams } = context(shared.url);
    const id = uniqueId('replay');
    const source = controlledSource();
    await streams.createNewResumableStream(id, source.makeStream);
    source.push('0123');
    source.push('4567');
    source.end();
    await until(async () => (await streams.hasExistingStream(id)) === 'DONE', 'DONE');
    expect(await streams.resumeExistingStream(id)).toBeNull(); // the default stays resumable-stream's

    const { context: replaying } = context(shared.url, { resumeFinishedStreams: true });
    expect(await collect((await replaying.resumeExistingStream(id)) as ReadableStream<string>).done).toEqual({ text: '01234567', error: undefined });
    expect(await collect((await replaying.resumeExistingStream(id, 3)) as ReadableStream<string>).done).toEqual({ text: '34567', error: undefined });
    const again = controlledSource();
    expect(await collect((await replaying.resumableStream(id, again.makeStream, 6)) as ReadableStream<string>).done).toEqual({ text: '67', error: undefined });
    expect(again.calls).toBe(0);
    expect(await replaying.resumeExistingStream(uniqueId('never'))).toBeUndefined();
  });

  it('a makeStream that fails: the stream ends producer-error, resumers and the first copy error with PRODUCER_ERROR, onError is told', async () => {
    const { context: streams, errors } = context(shared.url);
    const id = uniqueId('fails');
    const source = controlledSource();
    const first = collect((await streams.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
    source.push('half');
    const resumed = collect((await streams.resumeExistingStream(id)) as ReadableStream<string>);
    await until(() => resumed.text === 'half', 'the resumer to catch up');
    source.fail(new Error('the model provider went away'));
    const resumedEnd = await resumed.done;
    expect(resumedEnd.text).toBe('half');
    expect((resumedEnd.error as StreamstraightError).code).toBe('PRODUCER_ERROR');
    expect(((await first.done).error as StreamstraightError).code).toBe('PRODUCER_ERROR');
    await until(() => errors.length > 0, 'onError');
    expect(errors.map((error) => error.code)).toEqual(['PRODUCER_ERROR']);
    expect(await streams.hasExistingStream(id)).toBe('DONE');
    expect(await shared.relay.store.info(id)).toMatchObject({ endReason: 'producer-error' });
  });

  it('responseBufferCharacters: an unread first copy is cut with CLOSED past the limit; the relay keeps everything', async () => {
    const { context: streams, errors } = context(shared.url, { responseBufferCharacters: 10 });
    const id = uniqueId('buffer');
    const source = controlledSource();
    const first = (await streams.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>;
    source.push('123456');
    source.push('7890');
    source.push('abc'); // 13 characters waiting: over the limit
    source.end();
    await Promise.all(kept);
    // Cut, never silently short: what was queued is dropped and the copy errors.
    const { text, error } = await collect(first).done;
    expect(text).toBe('');
    expect((error as StreamstraightError).code).toBe('CLOSED');
    expect(await shared.relay.store.read(id, 0, 10)).toEqual(['123456', '7890', 'abc']);
    expect(errors).toEqual([]);
  });

  it('keyPrefix: stream id X is relay stream "prefix:X"', async () => {
    const { context: streams } = context(shared.url, { keyPrefix: 'chat-app' });
    const id = uniqueId('prefixed');
    const source = controlledSource();
    await streams.createNewResumableStream(id, source.makeStream);
    source.push('p');
    source.end();
    await Promise.all(kept);
    expect(await shared.relay.store.info(`chat-app:${id}`)).toMatchObject({ status: 'ended', lastSeq: 0 });
    expect(await shared.relay.store.info(id)).toBeUndefined();
    expect(await streams.hasExistingStream(id)).toBe('DONE');
  });

  it('bad input: an invalid stream id and chunks that are not strings get typed errors and never throw from createNewResumableStream', async () => {
    const { context: streams, errors } = context(shared.url);
    expect((await caught(streams.resumeExistingStream('no/slashes'))).code).toBe('INVALID_STREAM_ID');
    expect((await caught(streams.hasExistingStream(''))).code).toBe('INVALID_STREAM_ID');

    // createNewResumableStream is what consumeSseStream calls, whose promise the AI SDK never
    // catches: it must not reject. The caller's copy still carries makeStream's output.
    const passThrough = controlledSource();
    const copy = collect((await streams.createNewResumableStream('no/slashes', passThrough.makeStream)) as ReadableStream<string>);
    passThrough.push('still answered');
    passThrough.end();
    expect(await copy.done).toEqual({ text: 'still answered', error: undefined });
    expect(errors.map((error) => error.code)).toEqual(['INVALID_STREAM_ID']);

    const id = uniqueId('numbers');
    const numbers = new ReadableStream({
      start(controller) {
        controller.enqueue(42);
        controller.close();
      },
    }) as unknown as ReadableStream<string>;
    await streams.createNewResumableStream(id, () => numbers);
    await Promise.all(kept);
    expect(errors.map((error) => error.code)).toEqual(['INVALID_STREAM_ID', 'BAD_REQUEST']);
    expect(await shared.relay.store.info(id)).toMatchObject({ status: 'ended', endReason: 'producer-error' });
  });

  it('the API key and relay URL come from SS_API_KEY and STREAMSTRAIGHT_API_BASE_URL; no key is UNAUTHORIZED at once', async () => {
    vi.stubEnv(API_KEY_ENV, '');
    vi.stubEnv('STREAMSTRAIGHT_API_BASE_URL', shared.url);
    let refused: unknown;
    try {
      createResumableStreamContext({ waitUntil: null });
    } catch (error) {
      refused = error;
    }
    expect((refused as StreamstraightError).code).toBe('UNAUTHORIZED');
    expect((refused as StreamstraightError).message).toContain('SS_API_KEY');

    vi.stubEnv(API_KEY_ENV, API_KEY);
    const streams = createResumableStreamContext({ waitUntil: null });
    const id = uniqueId('env');
    const source = controlledSource();
    const copy = collect((await streams.createNewResumableStream(id, source.makeStream)) as ReadableStream<string>);
    source.push('from the environment');
    source.end();
    await copy.done;
    await until(async () => (await streams.hasExistingStream(id)) === 'DONE', 'DONE');
  });

  it('the relay down: createNewResumableStream still resolves with makeStream’s output and reports RELAY_UNAVAILABLE; the other methods reject', async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const { context: streams, errors } = context(deadUrl, { relay: { apiKey: API_KEY, baseUrl: deadUrl, retries: 0 } });
    const source = controlledSource();
    const copy = collect((await streams.createNewResumableStream(uniqueId('down'), source.makeStream)) as ReadableStream<string>);
    source.push('the answer ');
    source.push('survives');
    source.end();
    expect(await copy.done).toEqual({ text: 'the answer survives', error: undefined });
    expect(errors.map((error) => error.code)).toEqual(['RELAY_UNAVAILABLE']);
    expect((await caught(streams.hasExistingStream('down'))).code).toBe('RELAY_UNAVAILABLE');
    expect((await caught(streams.resumeExistingStream('down'))).code).toBe('RELAY_UNAVAILABLE');
  });

  it('a wrong API key: the status requests reject with UNAUTHORIZED', async () => {
    const { context: streams } = context(shared.url, { relay: { apiKey: 'not-the-key', baseUrl: shared.url } });
    expect((await caught(streams.hasExistingStream('any'))).code).toBe('UNAUTHORIZED');
  });
});

describe.skipIf(redisServerMissing)('@ss/ai/server on two relays sharing one Redis', () => {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedisServer();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
    await redis?.stop();
  });

  it('the producer writes through relay A; a resumer on relay B gets every chunk, mid-way and to the end', async () => {
    const a = await startRelay({ store: redisStore({ url: redis?.url as string }) });
    const b = await startRelay({ store: redisStore({ url: redis?.url as string }) });
    const producing = context(a.url).context;
    const resuming = context(b.url).context;
    const id = uniqueId('nodes');
    const source = controlledSource();
    await producing.createNewResumableStream(id, source.makeStream);
    for (let index = 0; index < 100; index++) source.push(`${index},`);
    expect(await resuming.hasExistingStream(id)).toBe(true);
    const resumed = collect((await resuming.resumeExistingStream(id, 3)) as ReadableStream<string>);
    for (let index = 100; index < 200; index++) source.push(`${index},`);
    source.end();
    const expected = Array.from({ length: 200 }, (_, index) => `${index},`).join('');
    expect(await resumed.done).toEqual({ text: expected.slice(3), error: undefined });
    await until(async () => (await resuming.hasExistingStream(id)) === 'DONE', 'DONE on relay B');
    expect(await resuming.resumeExistingStream(id)).toBeNull();
  });

  it('cancelStream through relay B reaches the producer writing through relay A: its abortController aborts, no error is reported', async () => {
    const a = await startRelay({ store: redisStore({ url: redis?.url as string }) });
    const b = await startRelay({ store: redisStore({ url: redis?.url as string }) });
    const producing = context(a.url);
    const id = uniqueId('cross-cancel');
    const source = controlledSource();
    const abortController = new AbortController();
    await producing.context.createNewResumableStream(id, source.makeStream, undefined, { abortController });
    source.push('before the cancel ');
    const resumed = collect((await context(b.url).context.resumeExistingStream(id)) as ReadableStream<string>);
    await until(() => resumed.text === 'before the cancel ', 'the resumer on B to catch up');
    await context(b.url).context.cancelStream(id);
    expect(await resumed.done).toEqual({ text: 'before the cancel ', error: undefined });
    // The model keeps producing until the producer learns of the cancel, at its next write.
    let index = 0;
    while (!abortController.signal.aborted) {
      source.push(`token ${index++} `);
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (index > 500) throw new Error('the producer never learnt of the cancel');
    }
    expect((abortController.signal.reason as StreamstraightError).code).toBe('STREAM_CANCELLED');
    await source.cancelled;
    await Promise.all(kept);
    expect(producing.errors).toEqual([]);
    expect(await a.relay.store.info(id)).toMatchObject({ status: 'ended', endReason: 'cancelled' });
    expect(await a.relay.store.read(id, 0, 10)).toEqual(['before the cancel ']);
  });
});
