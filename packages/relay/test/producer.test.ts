// The producer SDK of @ss/core against the real relay: acks and storage, many streams over one
// warm connection, connections cut mid-stream, retry budgets, auth, overwrite and reader cancel.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type StreamOptions,
  StreamstraightError,
  type StreamstraightServer,
  type StreamstraightServerOptions,
  streamstraightServer,
} from '@ss/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryStore, type Relay, type RelayOptions, type StreamStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectReader, readToEnd } from './support/raw-clients.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, token } from './support/tokens.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-producer';
const later = useCleanups();
const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [API_KEY], ...options });

async function producer<T>(options: StreamstraightServerOptions, streamOptions: StreamOptions<T>): Promise<StreamstraightServer> {
  return later(await streamstraightServer(options, streamOptions), (server) => server.disconnect());
}

async function* tokens(count: number, options: { yieldEvery?: number; onIndex?: (index: number) => void | Promise<void> } = {}) {
  for (let index = 0; index < count; index++) {
    await options.onIndex?.(index);
    if (options.yieldEvery && index % options.yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    yield token(index);
  }
}

/** Counts `mux:open {resume: true}` frames the relay receives. */
function countResumes(relay: Relay): { count: number } {
  const counter = { count: 0 };
  relay.io.on('connection', (socket) =>
    socket.use(([event, payload], next) => {
      if (event === 'mux:open' && (payload as { resume?: boolean }).resume === true) counter.count++;
      next();
    }),
  );
  return counter;
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

describe('producer → relay', () => {
  it('streams many chunks; every one is acknowledged and stored in order, then the end', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'many' });
    await server.stream(tokens(20_000));
    expect(await relay.store.info('many')).toEqual({ streamId: 'many', status: 'ended', lastSeq: 19_999, endReason: 'completed' });
    expect(await relay.store.read('many', 0, 30_000)).toEqual(encoded(20_000));
  });

  it('writes through streamWriter(): backpressure, skipped empty encodings, custom encoder, await using', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url, windowSize: 8 }, { streamId: 'writer', encoder: (chunk: string) => chunk });
    {
      await using writer = server.streamWriter<string>();
      expect(writer.streamId).toBe('writer');
      for (let index = 0; index < 100; index++) await writer.send(index % 10 === 0 ? '' : `w${index}`);
      // not awaited: queued behind a full window, still kept in order
      const pending = Array.from({ length: 20 }, (_, index) => writer.send(`x${index}`));
      await Promise.all(pending);
    }
    const stored = await relay.store.read('writer', 0, 1000);
    const expected = [
      ...Array.from({ length: 100 }, (_, index) => index)
        .filter((index) => index % 10 !== 0)
        .map((index) => `w${index}`),
      ...Array.from({ length: 20 }, (_, index) => `x${index}`),
    ];
    expect(stored).toEqual(expected);
    expect((await relay.store.info('writer'))?.endReason).toBe('completed');
  });

  it('accepts iterables and ReadableStreams, and streams an empty source', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'array', keepOpen: true });
    await server.stream(['a', 'b']);
    await server.connect({ streamId: 'readable' });
    await server.stream(
      new ReadableStream({
        start(controller) {
          controller.enqueue({ n: 1 });
          controller.enqueue({ n: 2 });
          controller.close();
        },
      }),
    );
    await server.connect({ streamId: 'empty' });
    await server.stream([]);
    expect(await relay.store.read('array', 0, 10)).toEqual(['"a"', '"b"']);
    expect(await relay.store.read('readable', 0, 10)).toEqual(['{"n":1}', '{"n":2}']);
    expect(await relay.store.info('empty')).toEqual({ streamId: 'empty', status: 'ended', lastSeq: -1, endReason: 'completed' });
    expect(relay.io.engine.clientsCount).toBe(1);
  });

  it('carries 200 streams at once over one warm connection', async () => {
    const { relay, url } = await startRelay();
    const first = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'warm-0' });
    const handles = [first];
    for (let index = 1; index < 200; index++) handles.push(await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: `warm-${index}` }));
    await Promise.all(handles.map((server) => server.stream(tokens(300, { yieldEvery: 25 }))));
    expect(relay.io.engine.clientsCount).toBe(1);
    for (let index = 0; index < 200; index += 37) {
      expect(await relay.store.read(`warm-${index}`, 0, 1000)).toEqual(encoded(300));
    }
    const infos = await Promise.all(handles.map((server) => relay.store.info(server.streamId)));
    expect(infos.every((info) => info?.status === 'ended' && info.lastSeq === 299 && info.endReason === 'completed')).toBe(true);
  });

  it('survives its connection being cut several times mid-stream: every chunk stored exactly once, in order', async () => {
    const { relay, url, port } = await startRelay();
    const proxy = later(await startTcpProxy(port), close);
    const resumes = countResumes(relay);
    const server = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 20, retryMaxMs: 100 }, { streamId: 'cut' });
    const reader = later(await connectReader(url, API_KEY, ['cut']), close);
    const dropAt = new Set([700, 1500, 2300, 3100, 3900, 4700]);
    let drops = 0;
    const streaming = server.stream(
      tokens(5_000, {
        yieldEvery: 20,
        onIndex: async (index) => {
          if (!dropAt.has(index)) return;
          // cut only a live connection that resumed after the previous cut, with frames in flight
          await vi.waitFor(() => expect(resumes.count).toBe(drops), { timeout: 5_000, interval: 2 });
          await sleep(3);
          drops += proxy.dropConnections();
        },
      }),
    );
    await sleep(20);
    const read = readToEnd(reader, 'cut', 0, 30_000);
    await streaming;
    expect(drops).toBe(6);
    expect(resumes.count).toBe(6); // one mux:open {resume: true} per reconnect
    expect(proxy.accepted).toBeGreaterThanOrEqual(7);
    expect(await relay.store.read('cut', 0, 10_000)).toEqual(encoded(5_000));
    expect(await relay.store.info('cut')).toEqual({ streamId: 'cut', status: 'ended', lastSeq: 4_999, endReason: 'completed' });
    const result = await read;
    expect(result.data).toEqual(encoded(5_000));
    expect(result.end).toEqual({ reason: 'completed', lastSeq: 4_999 });
  });

  it('survives cuts at scattered moments, including right after the end is stored', async () => {
    const { relay, port } = await startRelay();
    const proxy = later(await startTcpProxy(port), close);
    // Cuts are triggered by what the store holds, not by the clock, so every round really gets them.
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % 1_500;
    const cutsPerRound: number[] = [];
    let cuts = 0;
    const server = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 10, retryMaxMs: 50 }, { streamId: 'random-0', keepOpen: true });
    for (let round = 0; round < 8; round++) {
      cuts = 0;
      const streamId = `random-${round}`;
      const cutAt = new Set([next(), next(), next()]);
      const unsubscribe = relay.store.subscribe(streamId, (event) => {
        if (event.type === 'end') {
          if (round % 2 === 0) cuts += proxy.dropConnections(); // the end is stored but its ack is lost
          return;
        }
        for (const seq of cutAt) {
          if (seq >= event.seq && seq < event.seq + event.data.length) {
            cutAt.delete(seq);
            setImmediate(() => (cuts += proxy.dropConnections())); // mid-flight: the ack of this frame is lost too
          }
        }
      });
      if (round > 0) await server.connect({ streamId });
      try {
        await server.stream(tokens(1_500, { yieldEvery: 10 }));
      } finally {
        unsubscribe();
      }
      expect(await relay.store.read(streamId, 0, 10_000)).toEqual(encoded(1_500));
      expect((await relay.store.info(streamId))?.endReason).toBe('completed');
      cutsPerRound.push(cuts);
    }
    // Two cut points in one frame fall on one connection, so count rounds, not cuts.
    for (const [round, count] of cutsPerRound.entries()) expect(count, `cuts in round ${round}`).toBeGreaterThanOrEqual(round % 2 === 0 ? 2 : 1);
  });

  it('recovers when the end frame, or only its ack, is lost with the connection', async () => {
    const { relay, port } = await startRelay();
    const proxy = later(await startTcpProxy(port), close);
    let mode: 'drop-frame' | 'drop-ack' | 'pass' = 'drop-frame';
    const ends: string[] = [];
    relay.io.on('connection', (socket) =>
      socket.use(([event], next) => {
        if (event !== 'mux:end') return next();
        ends.push(mode);
        const current = mode;
        mode = current === 'drop-frame' ? 'drop-ack' : 'pass';
        proxy.dropConnections();
        if (current === 'drop-frame') return; // the relay never sees this end frame
        next(); // 'drop-ack': the relay stores the end, but its ack cannot reach the producer
      }),
    );
    const server = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 10, retryMaxMs: 50 }, { streamId: 'lost-end' });
    await server.stream(tokens(100));
    // 1st end dropped → resume (open) → 2nd end stored, ack lost → resume says "ended, completed" → done
    expect(ends).toEqual(['drop-frame', 'drop-ack']);
    expect(await relay.store.info('lost-end')).toEqual({ streamId: 'lost-end', status: 'ended', lastSeq: 99, endReason: 'completed' });
    expect(await relay.store.read('lost-end', 0, 1000)).toEqual(encoded(100));
  });

  it('never resumes into another producer’s stream with the same id when its first open was lost', async () => {
    const { relay, url, port } = await startRelay();
    // Producer A holds the stream "reused" open, on its own direct connection.
    const holder = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'reused' });
    const writerA = holder.streamWriter<string>();
    await writerA.send('a-0');
    await until(async () => (await relay.store.info('reused'))?.lastSeq === 0, "A's first chunk");
    // Producer B, through a proxy, starts a stream with the same id; its first open is lost with
    // its connection, so it comes back with a resume.
    const proxy = later(await startTcpProxy(port), close);
    let dropped = 0;
    relay.io.on('connection', (socket) =>
      socket.use(([event, payload], next) => {
        if (event === 'mux:open' && (payload as { resume?: boolean }).resume !== true && dropped === 0) {
          dropped++;
          proxy.dropConnections();
          return; // the relay never sees this open
        }
        next();
      }),
    );
    const intruder = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 10, retryMaxMs: 50 }, { streamId: 'reused' });
    // Refused as its create would have been; A's lease was never taken.
    expect((await caught(intruder.stream(['b-0', 'b-1']))).code).toBe('STREAM_EXISTS');
    expect(dropped).toBe(1);
    await writerA.send('a-1');
    await writerA.close();
    expect(await relay.store.read('reused', 0, 10)).toEqual(['"a-0"', '"a-1"']);
    expect(await relay.store.info('reused')).toMatchObject({ status: 'ended', lastSeq: 1, endReason: 'completed' });
  });

  it('rejects with RELAY_UNAVAILABLE when the relay stays unreachable beyond the retry budget', async () => {
    const { port } = await startRelay();
    const proxy = later(await startTcpProxy(port), close);
    const server = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retries: 3, retryBaseMs: 10, retryMaxMs: 20 }, { streamId: 'unreachable' });
    const writer = server.streamWriter();
    for (let index = 0; index < 10; index++) await writer.send(index);
    await sleep(50);
    proxy.pause();
    proxy.dropConnections();
    const started = Date.now();
    const error = await caught(
      (async () => {
        for (let index = 10; index < 5_000; index++) await writer.send(index);
        await writer.close();
      })(),
    );
    expect(error.code).toBe('RELAY_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('rejects a cold connect with RELAY_UNAVAILABLE when nothing listens', async () => {
    const { relay, url } = await startRelay();
    await relay.close();
    const error = await caught(streamstraightServer({ apiKey: API_KEY, baseUrl: url, retries: 2, retryBaseMs: 10, retryMaxMs: 20 }, { streamId: 'cold' }));
    expect(error.code).toBe('RELAY_UNAVAILABLE');
  });

  it('rejects a wrong API key with UNAUTHORIZED at once (no retries)', async () => {
    const { url } = await startRelay();
    const started = Date.now();
    // A retry would come 5-10 s later (10 s, with the reconnect jitter): far beyond the bound, which
    // leaves a busy machine seconds for the one real connect.
    const error = await caught(streamstraightServer({ apiKey: 'wrong-key', baseUrl: url, retryBaseMs: 10_000, retryMaxMs: 10_000 }, { streamId: 'denied' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a bad stream id before connecting', async () => {
    const { url } = await startRelay();
    const error = await caught(streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'no spaces' }));
    expect(error.code).toBe('INVALID_STREAM_ID');
  });

  it('fails with STREAM_EXISTS without overwrite, and replaces the stream with overwriteExistingStream', async () => {
    const { relay, url } = await startRelay();
    const first = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'taken' });
    await first.stream(['old-1', 'old-2', 'old-3']);

    const second = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'taken' });
    expect((await caught(second.stream(['new']))).code).toBe('STREAM_EXISTS');
    const writer = second.streamWriter();
    const closed = writer.close();
    expect((await caught(closed)).code).toBe('STREAM_EXISTS');
    expect(await relay.store.read('taken', 0, 10)).toEqual(['"old-1"', '"old-2"', '"old-3"']);

    const third = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'taken', overwriteExistingStream: true });
    await third.stream(['new']);
    expect(await relay.store.read('taken', 0, 10)).toEqual(['"new"']);
    expect(await relay.store.info('taken')).toMatchObject({ status: 'ended', lastSeq: 0, endReason: 'completed' });
  });

  it('writer.opened resolves once the relay holds the stream, and rejects with STREAM_EXISTS for an id in use', async () => {
    const { relay, url } = await startRelay();
    const first = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'claimed', encoder: (chunk: string) => chunk });
    const writer = first.streamWriter<string>();
    await writer.opened; // no chunk sent yet: the open alone was acknowledged
    expect(await relay.store.info('claimed')).toEqual({ streamId: 'claimed', status: 'open', lastSeq: -1 });

    const second = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'claimed' });
    const refused = second.streamWriter();
    expect((await caught(refused.opened)).code).toBe('STREAM_EXISTS');
    expect(refused.closed).toBe(true);

    await writer.send('mine');
    await writer.close();
    expect(await relay.store.read('claimed', 0, 10)).toEqual(['mine']);
    await writer.opened; // stays resolved
  });

  it('stops the source and ends with cancelled when a reader cancels; server.signal aborts', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'to-cancel' });
    let produced = 0;
    let finished = false;
    async function* slow() {
      try {
        for (;;) {
          await sleep(5);
          yield token(produced++);
        }
      } finally {
        finished = true;
      }
    }
    const streaming = server.stream(slow());
    await vi.waitFor(async () => expect((await relay.store.info('to-cancel'))?.lastSeq).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    const reader = later(await connectReader(url, API_KEY, ['to-cancel'], true), close);
    const ack = await reader.timeout(5_000).emitWithAck('consumer:cancel', { streamId: 'to-cancel', reason: 'user pressed stop' });
    expect(ack).toMatchObject({ ok: true });
    await streaming;
    expect(server.signal.aborted).toBe(true);
    expect((server.signal.reason as StreamstraightError).code).toBe('STREAM_CANCELLED');
    await vi.waitFor(() => expect(finished).toBe(true));
    const info = await relay.store.info('to-cancel');
    expect(info).toMatchObject({ status: 'ended', endReason: 'cancelled' });
    expect(await relay.store.read('to-cancel', 0, 1000)).toEqual(encoded((info?.lastSeq ?? -1) + 1));
  });

  it('ends with producer-error and rejects with PRODUCER_ERROR when the source throws', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'broken' });
    async function* failing() {
      yield 'one';
      yield 'two';
      throw new Error('the model crashed');
    }
    const error = await caught(server.stream(failing()));
    expect(error.code).toBe('PRODUCER_ERROR');
    expect(error.message).toContain('the model crashed');
    expect(await relay.store.info('broken')).toEqual({ streamId: 'broken', status: 'ended', lastSeq: 1, endReason: 'producer-error' });
  });

  it('abort() ends with producer-error after the chunks already sent', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'aborted' });
    const writer = server.streamWriter();
    await writer.send('kept');
    await writer.abort(new Error('gave up'));
    expect(await relay.store.info('aborted')).toEqual({ streamId: 'aborted', status: 'ended', lastSeq: 0, endReason: 'producer-error' });
    expect((await caught(writer.send('late'))).code).toBe('CLOSED');
  });

  it('rejects a chunk over the relay limit with CHUNK_TOO_LARGE and ends the stream', async () => {
    const { relay, url } = await startRelay({ maxChunkBytes: 1024 });
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'too-large' });
    const writer = server.streamWriter();
    await writer.send('small');
    await vi.waitFor(async () => expect((await relay.store.info('too-large'))?.lastSeq).toBe(0));
    await writer.send('x'.repeat(5_000));
    const error = await caught(writer.close());
    expect(error.code).toBe('CHUNK_TOO_LARGE');
    expect((await caught(writer.send('more'))).code).toBe('CHUNK_TOO_LARGE');
    await vi.waitFor(async () => expect(await relay.store.info('too-large')).toMatchObject({ status: 'ended', endReason: 'producer-error', lastSeq: 0 }), {
      timeout: 10_000,
    });
  });

  it('with maxChunkBytes set, refuses an oversized chunk in send() and keeps the stream intact', async () => {
    const { relay, url } = await startRelay({ maxChunkBytes: 1024 });
    const server = await producer({ apiKey: API_KEY, baseUrl: url, maxChunkBytes: 1024 }, { streamId: 'guarded' });
    const writer = server.streamWriter();
    await writer.send('before');
    expect((await caught(writer.send('é'.repeat(600)))).code).toBe('CHUNK_TOO_LARGE');
    await writer.send('after');
    await writer.close();
    expect(await relay.store.read('guarded', 0, 10)).toEqual(['"before"', '"after"']);
    expect(await relay.store.info('guarded')).toMatchObject({ status: 'ended', endReason: 'completed' });
  });

  it('shares one connection between handles and closes it when the last one disconnects', async () => {
    const { relay, url } = await startRelay();
    const one = await streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'shared-1' });
    const two = await streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'shared-2' });
    expect(relay.io.engine.clientsCount).toBe(1);
    await Promise.all([one.stream(['a']), two.stream(['b'])]);
    await one.disconnect();
    expect(relay.io.engine.clientsCount).toBe(1);
    await two.disconnect();
    await vi.waitFor(() => expect(relay.io.engine.clientsCount).toBe(0), { timeout: 10_000 });
  });

  it('starts a stream on a warm connection without a round trip before the first chunk', async () => {
    // A store whose open takes 1 s: a producer that waited for the open ack would send its first
    // chunk 1 s after the open; a pipelining one sends it right behind (the bound below leaves a
    // busy machine half a second between two frames written back to back).
    const store = memoryStore();
    const slowStore: StreamStore = { ...store, open: async (streamId, mode) => (await sleep(1_000), store.open(streamId, mode)) };
    const { relay, url } = await startRelay({ store: slowStore });
    const arrivals: Array<[string, number]> = [];
    relay.io.on('connection', (socket) =>
      socket.use(([event], next) => {
        arrivals.push([String(event), Date.now()]);
        next();
      }),
    );
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'pipelined' });
    const writer = server.streamWriter();
    await writer.send('first');
    await writer.close();
    expect(arrivals.map(([event]) => event)).toEqual(['mux:open', 'mux:chunks', 'mux:end']);
    const [[, openedAt], [, chunkAt]] = arrivals as [[string, number], [string, number]];
    expect(chunkAt - openedAt).toBeLessThan(500);
    expect(await relay.store.read('pipelined', 0, 10)).toEqual(['"first"']);
  });

  it('resyncs after an ack timeout: a stalled store write is not stored twice and nothing is lost', async () => {
    const store = memoryStore();
    let appends = 0;
    const stalling: StreamStore = {
      ...store,
      append: async (streamId, lease, seq, data) => {
        if (++appends === 3) await sleep(400); // longer than the producer's ack timeout
        return store.append(streamId, lease, seq, data);
      },
    };
    const { relay, url } = await startRelay({ store: stalling });
    const server = await producer({ apiKey: API_KEY, baseUrl: url, ackTimeoutMs: 150 }, { streamId: 'stalled' });
    await server.stream(tokens(3_000, { yieldEvery: 50 }));
    expect(await relay.store.read('stalled', 0, 10_000)).toEqual(encoded(3_000));
    expect(await relay.store.info('stalled')).toMatchObject({ status: 'ended', lastSeq: 2_999, endReason: 'completed' });
  });

  it('retries after STORE_UNAVAILABLE with its retryInMs', async () => {
    const store = memoryStore();
    let failures = 0;
    const flaky: StreamStore = {
      ...store,
      append: async (streamId, lease, seq, data) => {
        if (seq > 0 && failures < 2) {
          failures++;
          throw new StreamstraightError('STORE_UNAVAILABLE', 'the store is restarting', { retryInMs: 30 });
        }
        return store.append(streamId, lease, seq, data);
      },
    };
    const { relay, url } = await startRelay({ store: flaky });
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'flaky' });
    await server.stream(tokens(2_000, { yieldEvery: 100 }));
    expect(failures).toBe(2);
    expect(await relay.store.read('flaky', 0, 10_000)).toEqual(encoded(2_000));
  });

  it('gives up with the store error when it stays unavailable beyond the retry budget', async () => {
    const store = memoryStore();
    const down: StreamStore = {
      ...store,
      append: async () => {
        throw new StreamstraightError('STORE_UNAVAILABLE', 'the store is down', { retryInMs: 5 });
      },
    };
    const { url } = await startRelay({ store: down });
    const server = await producer({ apiKey: API_KEY, baseUrl: url, retries: 3 }, { streamId: 'down' });
    expect((await caught(server.stream(['a', 'b']))).code).toBe('STORE_UNAVAILABLE');
  });

  it('fails over to another relay that shares the store when its relay shuts down mid-stream', async () => {
    const store = memoryStore();
    const first = await startRelay({ store: { ...store, close: async () => {} } });
    const second = await startRelay({ store });
    const proxy = later(await startTcpProxy(first.port), close);
    const server = await producer({ apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 20, retryMaxMs: 100 }, { streamId: 'failover' });
    const streaming = server.stream(
      tokens(4_000, {
        yieldEvery: 20,
        onIndex: async (index) => {
          if (index !== 1_500) return;
          proxy.setTarget(second.port);
          await first.relay.close(); // disconnects the producer: it reconnects through the proxy to the second relay
        },
      }),
    );
    await streaming;
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    expect(await store.read('failover', 0, 10_000)).toEqual(encoded(4_000));
    expect(await store.info('failover')).toMatchObject({ status: 'ended', lastSeq: 3_999, endReason: 'completed' });
  });

  it('stops with LEASE_LOST when another producer takes the stream over', async () => {
    const { relay, url } = await startRelay();
    const server = await producer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'contested' });
    const writer = server.streamWriter();
    await writer.send('mine'); // resolves once in the window, before the relay has the open
    // The takeover must come after the first producer's open, or that open is refused as STREAM_EXISTS.
    await until(async () => (await relay.store.info('contested'))?.lastSeq === 0, 'the first chunk stored');
    // Another producer connection replaces the stream: it takes the lease.
    const raw = later(await connectMuxProducer(url, API_KEY), close);
    expect(await raw.emitWithAck('mux:open', { streamId: 'contested', overwrite: true })).toMatchObject({ ok: true });
    await writer.send('after the takeover');
    expect((await caught(writer.close())).code).toBe('LEASE_LOST');
  });
});
