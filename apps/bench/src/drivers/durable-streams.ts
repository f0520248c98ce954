/**
 * The Durable Streams Node reference server, driven with its own client: writes through
 * `IdempotentProducer` (automatic batching, 5 ms linger, 5 batches in flight — its defaults),
 * reads over SSE with `stream({ live: 'sse' })`, catch-up reads with `live: false`. The live and
 * fan-out scenarios read with a raw SSE reader by default (`rawReadLive`): the same requests as the
 * client's live SSE reads, none of its library.
 */
import { DurableStream, IdempotentProducer, stream } from '@durable-streams/client';
import { Histogram, nowUs } from '../lib/histogram.js';
import { startDelayProxy } from '../lib/delay-proxy.js';
import { type ConnectReader, LiveTally, runLiveReaders } from '../lib/raw-readers.js';
import { openSse } from '../lib/sse-reader.js';
import { median, sleep } from '../lib/stats.js';
import { TOKEN, measured, runTicker, sentAt, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

/** Where the server is, and a per-run prefix for stream paths. */
export interface DurableStreamsTarget {
  url: string;
  prefix: string;
}

/** Every chunk is a 24-character string, so 26 bytes of JSON, plus a comma in a batch. */
const ITEM_BYTES = JSON.stringify(TOKEN).length + 1;

const streamUrl = (target: DurableStreamsTarget, name: string | number) => `${target.url}/${target.prefix}/${name}`;

/** A `fetch` that counts the items of every acknowledged producer batch (a JSON array of equal-sized items). */
function countingFetch(onAcked: (items: number) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const body = init?.body;
    if (response.ok && init?.method === 'POST' && typeof body === 'string' && body.startsWith('[')) onAcked((body.length - 1) / ITEM_BYTES);
    return response;
  };
}

function create(target: DurableStreamsTarget, name: string | number): Promise<DurableStream> {
  return DurableStream.create({ url: streamUrl(target, name), contentType: 'application/json' });
}

async function createAll(target: DurableStreamsTarget, count: number, concurrency = 64): Promise<DurableStream[]> {
  const handles: DurableStream[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        handles[index] = await create(target, index);
      }
    }),
  );
  return handles;
}

/** Ingest: every stream appends `chunks` chunks at once (fire-and-forget, the client batches), then closes; stops counting at `capMs`. */
export async function ingest(params: DurableStreamsTarget & { streams: number; chunks: number; capMs: number }, context: TaskContext) {
  const handles = await createAll(params, params.streams);
  let acked = 0;
  let errors = 0;
  const fetchCounting = countingFetch((items) => (acked += items));
  const producers = handles.map(
    (handle, index) => new IdempotentProducer(handle, `bench-${index}`, { autoClaim: true, fetch: fetchCounting, onError: () => errors++ }),
  );
  context.emit('prepared');
  await context.waitFor('go');
  const start = performance.now();
  const all = Promise.all(
    producers.map(async (producer) => {
      for (let n = 0; n < params.chunks; n++) producer.append(JSON.stringify(TOKEN));
      await producer.close();
    }),
  );
  const capped = await Promise.race([all.then(() => false), sleep(params.capMs).then(() => true)]);
  const elapsedMs = performance.now() - start;
  return { acked, elapsedMs, capped, errors };
}

/** Live producer: creates the streams; on `go`, appends timed chunks at `rate` per stream; then closes them. */
export async function produceLive(params: DurableStreamsTarget & { streams: number; rate: number; warmupMs: number; durationMs: number }, context: TaskContext) {
  const handles = await createAll(params, params.streams);
  const producers = handles.map((handle, index) => new IdempotentProducer(handle, `bench-${index}`, { autoClaim: true, onError: () => {} }));
  context.emit('prepared');
  await context.waitFor('go');
  const sent = await runTicker(params.streams, params.rate, params.warmupMs, params.durationMs, (index, warm) => {
    producers[index]!.append(JSON.stringify(timedChunk(nowUs(), warm)));
  });
  await Promise.all(producers.map((producer) => producer.close()));
  return { sent };
}

/** Live readers over SSE, one per stream path. */
export async function readLive(params: DurableStreamsTarget & { names: string[] }, context: TaskContext) {
  const histogram = new Histogram();
  let received = 0;
  let lastAt = 0;
  const finished: Promise<void>[] = [];
  await Promise.all(
    params.names.map(async (name) => {
      const response = await stream<string>({ url: streamUrl(params, name), live: 'sse', json: true });
      finished.push(
        new Promise<void>((resolve) => {
          response.subscribeJson(async (batch) => {
            const now = nowUs();
            for (const item of batch.items) {
              if (!measured(item)) continue;
              histogram.record(now - sentAt(item));
              received++;
            }
            lastAt = now;
            if (batch.streamClosed) resolve();
          });
        }),
      );
    }),
  );
  context.emit('ready');
  await Promise.race([context.waitFor('stop'), Promise.all(finished)]);
  return { histogram: histogram.toJSON(), received, lastAt };
}

/**
 * Live readers over the protocol's SSE reads (`GET <stream>?offset=-1&live=sse`) through the bare
 * SSE reader, one response per stream path, live once the response starts: `data` events carry a
 * JSON array of items, `control` events the offset after them (`streamNextOffset`) and, at the
 * end, `streamClosed`. A lost response resumes from the last control offset, as the client does.
 * SSE gives items no sequence number: each item's send time must be later than the previous
 * item's of its reader (a duplicate or a reordering is a sequence error; a gap shows as lost).
 */
export async function rawReadLive(params: DurableStreamsTarget & { names: string[] }, context: TaskContext) {
  const tally = new LiveTally();
  const readers = params.names.map((name): ConnectReader => {
    const url = streamUrl(params, name);
    let offset = '-1';
    let lastSentAt = -1;
    return (hooks) => {
      const reader = openSse(`${url}?offset=${encodeURIComponent(offset)}&live=sse`, {
        onOpen: (status) => {
          if (status === 200) hooks.live();
        },
        onEvent(event) {
          if (event.event === 'data') {
            const now = nowUs();
            for (const item of JSON.parse(event.data) as string[]) {
              const sent = sentAt(item);
              if (sent <= lastSentAt) {
                tally.sequenceErrors++;
                continue;
              }
              lastSentAt = sent;
              tally.chunk(item, now);
            }
          } else if (event.event === 'control') {
            const control = JSON.parse(event.data) as { streamNextOffset: string; streamClosed?: boolean };
            offset = control.streamNextOffset;
            if (control.streamClosed) hooks.ended();
          }
        },
      });
      return { closed: reader.closed.then(() => reader.error?.message ?? 'response ended'), close: () => reader.close() };
    };
  });
  return runLiveReaders(readers, tally, context);
}

/** Writes one closed stream of `chunks` chunks and returns the offset after chunk `resumeAt - 1`. */
export async function fill(params: DurableStreamsTarget & { name: string; chunks: number; resumeAt: number }) {
  const handle = await create(params, params.name);
  const producer = new IdempotentProducer(handle, 'bench-fill', { autoClaim: true });
  for (let n = 0; n < params.resumeAt; n++) producer.append(JSON.stringify(TOKEN));
  await producer.flush();
  const head = await handle.head();
  if (!head.exists || head.offset === undefined) throw new Error('HEAD gave no offset');
  const offset = head.offset;
  for (let n = params.resumeAt; n < params.chunks; n++) producer.append(JSON.stringify(TOKEN));
  await producer.close();
  return { resumeOffset: offset };
}

/** Catch-up: `readers` catch-up reads at once, then single reads from the offset of chunk `resumeAt`. */
export async function catchUp(params: DurableStreamsTarget & { name: string; readers: number; chunks: number; resumeOffset: string; resumeRepeats: number }) {
  const url = streamUrl(params, params.name);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: params.readers }, async () => (await (await stream<string>({ url, live: false, json: true })).json()).length),
  );
  const allMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const readerCpuMs = (cpu.user + cpu.system) / 1000;
  if (counts.some((count) => count !== params.chunks)) throw new Error(`catch-up readers got ${counts.join(',')} items, expected ${params.chunks}`);
  const firstChunkMs: number[] = [];
  for (let repeat = 0; repeat < params.resumeRepeats; repeat++) {
    const begin = performance.now();
    const response = await stream<string>({ url, offset: params.resumeOffset, live: false, json: true });
    const reader = response.jsonStream().getReader();
    const first = await reader.read();
    firstChunkMs.push(performance.now() - begin);
    await reader.cancel();
    if (first.done) throw new Error('resume got no item');
    await sleep(20);
  }
  return { allMs, resumeFirstChunkMs: median(firstChunkMs), readerCpuMs };
}

/** Idle cost: creates `streams` streams (open, no data) after as many baseline ones; holds them until `done`. */
export async function openIdle(params: DurableStreamsTarget & { streams: number }, context: TaskContext) {
  await createAll({ ...params, prefix: `${params.prefix}-baseline` }, params.streams);
  context.emit('prepared');
  await context.waitFor('go');
  await createAll(params, params.streams);
  context.emit('opened');
  await context.waitFor('done');
  return { opened: 2 * params.streams };
}

/** Stream start: create a stream and get its first append acknowledged. The first one opens the HTTP connection (cold). */
export async function streamStart(params: DurableStreamsTarget & { repeats: number }) {
  const firstAck = async (target: DurableStreamsTarget, name: string) => {
    const begin = performance.now();
    const handle = await create(target, name);
    const producer = new IdempotentProducer(handle, 'bench-start', { autoClaim: true });
    producer.append(JSON.stringify(TOKEN));
    await producer.flush();
    return performance.now() - begin;
  };
  const warmStarts = async (target: DurableStreamsTarget, label: string, repeats: number) => {
    await firstAck(target, `${label}-first`);
    const times: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) times.push(await firstAck(target, `${label}-${repeat}`));
    return median(times);
  };
  const roundTrip = async (target: DurableStreamsTarget) => {
    const handle = await create(target, 'round-trip');
    const times: number[] = [];
    for (let repeat = 0; repeat < params.repeats; repeat++) {
      const begin = performance.now();
      await handle.head();
      times.push(performance.now() - begin);
    }
    return median(times);
  };
  const coldMs = await firstAck(params, 'cold');
  const warmMs = await warmStarts(params, 'warm', params.repeats);
  const rttMs = await roundTrip(params);
  // Counted round trips, as for the relay: through a proxy adding 10 ms each way.
  const proxy = await startDelayProxy(params.url, 10);
  try {
    const delayed = { ...params, url: proxy.url, prefix: `${params.prefix}-delayed` };
    const delayedWarm = await warmStarts(delayed, 'warm', 5);
    return { warmMs, coldMs, rttMs, warmRoundTrips: delayedWarm / (await roundTrip(delayed)) };
  } finally {
    await proxy.close();
  }
}
