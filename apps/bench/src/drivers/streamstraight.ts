/**
 * This relay, driven the way its users drive it: producers through `@ss/core`'s
 * `streamstraightServer` (one pooled, multiplexed connection per process), readers through
 * `@ss/client`'s `streamstraightClient` (one connection per reader, like one per browser tab).
 * The live and fan-out scenarios read with raw readers by default (`rawReadLive`,
 * `rawReadLiveSse`): the same connections and wire protocol as the client, none of its library.
 */
import { streamstraightClient } from '@ss/client';
import { type StreamstraightServer, mintClientToken, streamstraightServer } from '@ss/core';
import { streamstraightServer as httpStreamstraightServer } from '@ss/core/http';
import { PROTOCOL_VERSION, SOCKET_PATH } from '@ss/core/protocol';
import { io } from 'socket.io-client';
import { Histogram, nowUs } from '../lib/histogram.js';
import { startDelayProxy } from '../lib/delay-proxy.js';
import { type ConnectReader, LiveTally, SeqCheck, runLiveReaders } from '../lib/raw-readers.js';
import { connectSocketIo } from '../lib/socketio-consumer.js';
import { openSse } from '../lib/sse-reader.js';
import { median, sleep } from '../lib/stats.js';
import { TOKEN, measured, runTicker, sentAt, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

/** Connection parameters every task gets. */
export interface RelayTarget {
  url: string;
  apiKey: string;
  /** Unique per run, so stream ids never collide. */
  prefix: string;
}

const ignore = (): void => {};

/** Waits until the relay knows `streamId` (opens are pipelined, so this is when all earlier ones landed too). */
async function waitForStream(target: RelayTarget, streamId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await fetch(`${target.url}/v1/streams/${encodeURIComponent(streamId)}`, { headers: { authorization: `Bearer ${target.apiKey}` } });
    await response.arrayBuffer();
    if (response.ok) return;
    await sleep(20);
  }
  throw new Error(`stream ${streamId} was not opened within ${timeoutMs} ms`);
}

async function tokenFor(target: RelayTarget, streamId: string): Promise<string> {
  return mintClientToken({ apiKey: target.apiKey, streamIds: [streamId], expiresIn: '1h' });
}

/** Ingest: `streams` streams each push `chunks` chunks as fast as acks allow. */
export async function ingest(params: RelayTarget & { streams: number; chunks: number }, context: TaskContext) {
  const options = { apiKey: params.apiKey, baseUrl: params.url };
  const warm = await streamstraightServer(options, { streamId: `${params.prefix}-warm`, keepOpen: true });
  context.emit('prepared');
  await context.waitFor('go');
  const start = performance.now();
  let acked = 0;
  await Promise.all(
    Array.from({ length: params.streams }, async (_, index) => {
      const server = await streamstraightServer(options, { streamId: `${params.prefix}-${index}` });
      const writer = server.streamWriter<string>();
      for (let n = 0; n < params.chunks; n++) await writer.send(TOKEN);
      await writer.close();
      acked += params.chunks;
    }),
  );
  const elapsedMs = performance.now() - start;
  await warm.disconnect();
  return { acked, elapsedMs };
}

/**
 * Ingest through the HTTP producer (`@ss/core/http`, `fetch` only): each stream's chunks go out in
 * batches of up to 512 per request, one request in flight per stream.
 */
export async function ingestHttp(params: RelayTarget & { streams: number; chunks: number }, context: TaskContext) {
  const options = { transport: 'http' as const, apiKey: params.apiKey, baseUrl: params.url };
  context.emit('prepared');
  await context.waitFor('go');
  const start = performance.now();
  let acked = 0;
  await Promise.all(
    Array.from({ length: params.streams }, async (_, index) => {
      const server = await httpStreamstraightServer(options, { streamId: `${params.prefix}-${index}` });
      const writer = server.streamWriter<string>();
      for (let n = 0; n < params.chunks; n++) await writer.send(TOKEN);
      await writer.close();
      acked += params.chunks;
    }),
  );
  return { acked, elapsedMs: performance.now() - start };
}

/** Live producer: opens `streams` streams, then (on `go`) writes timed chunks at `rate` per stream. */
export async function produceLive(params: RelayTarget & { streams: number; rate: number; warmupMs: number; durationMs: number }, context: TaskContext) {
  const options = { apiKey: params.apiKey, baseUrl: params.url };
  const servers: StreamstraightServer[] = [];
  for (let index = 0; index < params.streams; index++) {
    servers.push(await streamstraightServer(options, { streamId: `${params.prefix}-${index}` }));
  }
  const writers = servers.map((server) => server.streamWriter<string>());
  await waitForStream(params, `${params.prefix}-${params.streams - 1}`);
  context.emit('prepared');
  await context.waitFor('go');
  const sent = await runTicker(params.streams, params.rate, params.warmupMs, params.durationMs, (index, warm) => {
    writers[index]!.send(timedChunk(nowUs(), warm)).catch(ignore);
  });
  await Promise.all(writers.map((writer) => writer.close()));
  return { sent };
}

/** Live readers: one reader (one connection) per stream id, from seq 0; records send→receive latency. */
export async function readLive(params: RelayTarget & { streamIds: string[]; transport?: 'sse' }, context: TaskContext) {
  const histogram = new Histogram();
  const debug = process.env.BENCH_DEBUG ? new Map<number, number>() : undefined;
  let received = 0;
  let lastAt = 0;
  const tokens = await Promise.all(params.streamIds.map((streamId) => tokenFor(params, streamId)));
  let live = 0;
  let signalled = false;
  const done = params.streamIds.map(async (streamId, index) => {
    const reader = streamstraightClient<string>(
      { baseUrl: params.url, token: tokens[index]!, retries: 20, ...(params.transport ? { transport: params.transport } : {}) },
      {
        streamId,
        waitForStreamMs: 30_000,
        onStatus: (status) => {
          if (status === 'live' && ++live === params.streamIds.length && !signalled) {
            signalled = true;
            context.emit('ready');
          }
        },
      },
    );
    for await (const chunk of reader) {
      if (!measured(chunk)) continue;
      const now = nowUs();
      const sent = sentAt(chunk);
      histogram.record(now - sent);
      if (debug) {
        const slot = Math.floor(sent / 100_000);
        debug.set(slot, Math.max(debug.get(slot) ?? 0, now - sent));
      }
      received++;
      lastAt = now;
    }
  });
  await Promise.race([context.waitFor('stop'), Promise.all(done)]);
  if (debug) console.error('max latency (ms) per 100 ms of send time:', [...debug.values()].map((us) => Math.round(us / 1000)).join(' '));
  return { histogram: histogram.toJSON(), received, lastAt };
}

/** Live readers over Server-Sent Events (`@ss/client` with `transport: 'sse'`): one HTTP response per reader. */
export function readLiveSse(params: RelayTarget & { streamIds: string[] }, context: TaskContext) {
  return readLive({ ...params, transport: 'sse' }, context);
}

/** One client token per distinct stream id (fan-out readers share one stream). */
async function tokensFor(target: RelayTarget, streamIds: string[]): Promise<Map<string, string>> {
  const distinct = [...new Set(streamIds)];
  const tokens = await Promise.all(distinct.map((streamId) => tokenFor(target, streamId)));
  return new Map(distinct.map((streamId, index) => [streamId, tokens[index]!]));
}

/**
 * Live readers over raw Socket.IO (the wire protocol of `@ss/client`, on a bare `ws` WebSocket):
 * one connection per stream id, subscribed from seq 0 in the handshake (`auth.subscribe`) and by
 * `consumer:subscribe`, whose answer makes the reader live. Each `stream:chunks` frame is checked
 * to start right after the reader's last chunk; a lost connection resumes after it.
 */
export async function rawReadLive(params: RelayTarget & { streamIds: string[] }, context: TaskContext) {
  const tally = new LiveTally();
  const tokens = await tokensFor(params, params.streamIds);
  const readers = params.streamIds.map((streamId): ConnectReader => {
    const position = new SeqCheck(tally);
    const token = tokens.get(streamId)!;
    return (hooks) => {
      const fromSeq = position.next;
      let reason = 'closed';
      let markClosed: (why: string) => void = () => {};
      const closed = new Promise<string>((resolve) => (markClosed = resolve));
      const connection = connectSocketIo(
        params.url,
        `${SOCKET_PATH}/`,
        { role: 'consumer', token, version: PROTOCOL_VERSION, subscribe: { streamId, fromSeq } },
        {
          onConnect() {
            // The handshake started the subscription; the same subscribe is then only answered.
            connection.emitWithAck('consumer:subscribe', { streamId, fromSeq }, (answer) => {
              const reply = answer as { ok?: boolean; error?: { code?: string; message?: string } };
              if (reply.ok) hooks.live();
              else {
                reason = `subscribe refused: ${reply.error?.code} ${reply.error?.message}`;
                connection.close();
              }
            });
          },
          onEvent(name, payload) {
            if (name === 'stream:chunks') {
              const now = nowUs();
              const { seq, data } = payload as { seq: number; data: string[] };
              const fresh = position.take(seq, data.length);
              for (let index = data.length - fresh; index < data.length; index++) tally.chunk(data[index]!, now);
            } else if (name === 'stream:end') {
              position.end((payload as { lastSeq: number }).lastSeq);
              hooks.ended();
            } else if (name === 'stream:error' || name === 'connection:error') {
              const error = payload as { code?: string; message?: string };
              reason = `${name} ${error.code}: ${error.message}`;
              connection.close();
            }
          },
          onConnectError(message) {
            reason = `connect_error: ${message}`;
            connection.close();
          },
          onClose(why) {
            markClosed(reason === 'closed' ? why : reason);
          },
        },
      );
      return { closed, close: () => connection.close() };
    };
  });
  return runLiveReaders(readers, tally, context);
}

/**
 * Live readers over the relay's SSE endpoint (`GET /v1/streams/:id/events`, what `@ss/client` reads
 * with `transport: 'sse'`) through the bare SSE reader: one response per stream id, from seq 0,
 * live once the response starts. Every event's `id:` is checked to follow the previous one; a lost
 * response resumes after the last id.
 */
export async function rawReadLiveSse(params: RelayTarget & { streamIds: string[] }, context: TaskContext) {
  const tally = new LiveTally();
  const tokens = await tokensFor(params, params.streamIds);
  const readers = params.streamIds.map((streamId): ConnectReader => {
    const position = new SeqCheck(tally);
    const headers = { authorization: `Bearer ${tokens.get(streamId)!}` };
    return (hooks) => {
      let reason = 'response ended';
      const reader = openSse(`${params.url}/v1/streams/${encodeURIComponent(streamId)}/events?fromSeq=${position.next}`, {
        headers,
        onOpen: (status) => {
          if (status === 200) hooks.live();
        },
        onEvent(event) {
          if (event.event === 'message') {
            const now = nowUs();
            if (position.take(Number(event.id), 1) === 1) tally.chunk(event.data, now);
          } else if (event.event === 'end') {
            position.end((JSON.parse(event.data) as { lastSeq: number }).lastSeq);
            hooks.ended();
          } else if (event.event === 'stream-error') reason = `stream-error ${event.data}`;
        },
      });
      return { closed: reader.closed.then(() => reader.error?.message ?? reason), close: () => reader.close() };
    };
  });
  return runLiveReaders(readers, tally, context);
}

/** Writes one finished stream of `chunks` chunks (setup for catch-up). */
export async function fill(params: RelayTarget & { streamId: string; chunks: number }) {
  const server = await streamstraightServer({ apiKey: params.apiKey, baseUrl: params.url }, { streamId: params.streamId });
  const writer = server.streamWriter<string>();
  for (let n = 0; n < params.chunks; n++) await writer.send(TOKEN);
  await writer.close();
  await server.disconnect();
  return { chunks: params.chunks };
}

/** Catch-up: `readers` readers of a finished stream start at once; then single readers resume at `resumeAt`. */
export async function catchUp(params: RelayTarget & { streamId: string; readers: number; chunks: number; resumeAt: number; resumeRepeats: number }) {
  const token = await tokenFor(params, params.streamId);
  const readAll = async (fromSeq: number) => {
    let count = 0;
    for await (const _ of streamstraightClient<string>({ baseUrl: params.url, token }, { streamId: params.streamId, fromSeq })) count++;
    return count;
  };
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: params.readers }, () => readAll(0)));
  const allMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const readerCpuMs = (cpu.user + cpu.system) / 1000;
  if (counts.some((count) => count !== params.chunks)) throw new Error(`catch-up readers got ${counts.join(',')} chunks, expected ${params.chunks}`);
  const firstChunkMs: number[] = [];
  for (let repeat = 0; repeat < params.resumeRepeats; repeat++) {
    const begin = performance.now();
    const reader = streamstraightClient<string>({ baseUrl: params.url, token }, { streamId: params.streamId, fromSeq: params.resumeAt });
    const first = await reader.next();
    firstChunkMs.push(performance.now() - begin);
    reader.close();
    if (first.done) throw new Error('resume got no chunk');
    await sleep(20);
  }
  return { allMs, resumeFirstChunkMs: median(firstChunkMs), readerCpuMs };
}

/**
 * Idle cost: opens `streams` streams and sends nothing; holds them until `done`. Before the
 * baseline, as many streams are opened the same way (and kept), so the server's heap has grown to
 * its working size for this load: the measured growth is what `streams` more idle streams keep.
 */
export async function openIdle(params: RelayTarget & { streams: number }, context: TaskContext) {
  const options = { apiKey: params.apiKey, baseUrl: params.url };
  const openMany = async (group: string) => {
    const servers: StreamstraightServer[] = [];
    for (let index = 0; index < params.streams; index++) {
      const server = await streamstraightServer(options, { streamId: `${params.prefix}-${group}-${index}` });
      server.streamWriter();
      servers.push(server);
    }
    await waitForStream(params, `${params.prefix}-${group}-${params.streams - 1}`, 120_000);
    return servers;
  };
  const baseline = await openMany('baseline');
  context.emit('prepared');
  await context.waitFor('go');
  const measured = await openMany('idle');
  context.emit('opened');
  await context.waitFor('done');
  return { opened: baseline.length + measured.length };
}

/** Stream start: time from `streamstraightServer()` to the first chunk acknowledged, warm and cold. */
export async function streamStart(params: RelayTarget & { repeats: number }) {
  // A chunk is acknowledged when a second send() gets room in a one-chunk window.
  const firstAck = async (baseUrl: string, streamId: string, keepOpen = false) => {
    const begin = performance.now();
    const server = await streamstraightServer({ apiKey: params.apiKey, baseUrl, windowSize: 1 }, { streamId, keepOpen });
    const writer = server.streamWriter<string>();
    await writer.send(TOKEN);
    await writer.send(TOKEN);
    const ms = performance.now() - begin;
    await writer.close();
    return { ms, server };
  };
  /** One acknowledged frame on a warm producer connection: a frame the relay answers at once. */
  const roundTrip = async (baseUrl: string) => {
    const socket = io(baseUrl, {
      path: '/socket.io',
      transports: ['websocket'],
      extraHeaders: { Authorization: `Bearer ${params.apiKey}` },
      auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'], sdkVersion: 'bench' },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const times: number[] = [];
    for (let repeat = 0; repeat < params.repeats; repeat++) {
      const begin = performance.now();
      await socket.emitWithAck('mux:end', { streamId: `${params.prefix}-nothing`, reason: 'completed', lastSeq: -1 });
      times.push(performance.now() - begin);
    }
    socket.disconnect();
    return median(times);
  };
  /** Warm starts through `baseUrl` (the first start there warms the pooled connection up). */
  const warmStarts = async (baseUrl: string, label: string, repeats: number) => {
    const { server: holder } = await firstAck(baseUrl, `${params.prefix}-${label}-hold`, true);
    const warm: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) warm.push((await firstAck(baseUrl, `${params.prefix}-${label}-${repeat}`)).ms);
    await holder.disconnect();
    return median(warm);
  };

  const cold: number[] = [];
  for (let repeat = 0; repeat < params.repeats; repeat++) {
    const { ms, server } = await firstAck(params.url, `${params.prefix}-cold-${repeat}`);
    cold.push(ms);
    await server.disconnect(); // the pooled connection closes: the next start is cold again
  }
  const warmMs = await warmStarts(params.url, 'warm', params.repeats);
  const rttMs = await roundTrip(params.url);
  // Counted round trips: through a proxy adding 10 ms each way, a round trip is 20 ms and the
  // start's own processing is negligible next to it.
  const proxy = await startDelayProxy(params.url, 10);
  try {
    const delayedWarm = await warmStarts(proxy.url, 'delayed', 5);
    const delayedRtt = await roundTrip(proxy.url);
    return { warmMs, coldMs: median(cold), rttMs, warmRoundTrips: delayedWarm / delayedRtt };
  } finally {
    await proxy.close();
  }
}

/**
 * Catch-up with raw readers (the relay's reader protocol on a bare WebSocket, as {@link rawReadLive}):
 * what the relay takes to serve `readers` full reads of a finished stream, without the client
 * library's per-chunk decoding in the way. Each reader checks its chunks follow each other.
 */
export async function rawCatchUp(params: RelayTarget & { streamId: string; readers: number; chunks: number; resumeAt: number; resumeRepeats: number }) {
  const token = await tokenFor(params, params.streamId);
  /** Reads from `fromSeq`; resolves with the chunk count at the end, or the time of the first frame when `firstOnly`. */
  const read = (fromSeq: number, firstOnly: boolean) =>
    new Promise<number>((resolve, reject) => {
      let next = fromSeq;
      const connection = connectSocketIo(
        params.url,
        `${SOCKET_PATH}/`,
        { role: 'consumer', token, version: PROTOCOL_VERSION, subscribe: { streamId: params.streamId, fromSeq } },
        {
          onEvent(name, payload) {
            if (name === 'stream:chunks') {
              const { seq, data } = payload as { seq: number; data: string[] };
              if (seq !== next) reject(new Error(`catch-up reader expected seq ${next}, got ${seq}`));
              next = seq + data.length;
              if (firstOnly) {
                resolve(performance.now());
                connection.close();
              }
            } else if (name === 'stream:end') {
              resolve(next - fromSeq);
              connection.close();
            } else if (name === 'stream:error' || name === 'connection:error') reject(new Error(`${name}: ${JSON.stringify(payload)}`));
          },
          onConnectError: (message) => reject(new Error(`connect refused: ${message}`)),
          onClose: (reason) => reject(new Error(`closed before the end: ${reason}`)),
        },
      );
    });
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: params.readers }, () => read(0, false)));
  const allMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  if (counts.some((count) => count !== params.chunks)) throw new Error(`catch-up readers got ${counts.join(',')} chunks, expected ${params.chunks}`);
  const firstChunkMs: number[] = [];
  for (let repeat = 0; repeat < params.resumeRepeats; repeat++) {
    const begin = performance.now();
    firstChunkMs.push((await read(params.resumeAt, true)) - begin);
    await sleep(20);
  }
  return { allMs, resumeFirstChunkMs: median(firstChunkMs), readerCpuMs: (cpu.user + cpu.system) / 1000 };
}
