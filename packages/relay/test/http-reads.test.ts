// Reading a stream over HTTP (GET /v1/streams/:id/events): Server-Sent Events with EventSource's
// resume through real TCP cuts, NDJSON and text for curl, errors, CORS, keep-alives, and readers
// that stop reading (dropped past a bound, never buffered without limit).
import net from 'node:net';
import { mintClientToken, streamstraightServer } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer } from './support/raw-clients.js';
import { expectConsecutive, readSse } from './support/sse-reader.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, tokens } from './support/tokens.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-http-reads';
const later = useCleanups();

const readerToken = (...streamIds: string[]) => mintClientToken({ apiKey: API_KEY, streamIds, expiresIn: '5m' });
const eventsUrl = (base: string, streamId: string, query = '') => `${base}/v1/streams/${streamId}/events${query}`;

async function producer(url: string, streamId: string) {
  return later(await streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId }), (handle) => handle.disconnect());
}

/** A metric's value from the relay's /metrics, or 0 when absent. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('GET /v1/streams/:id/events', () => {
  it('streams a live stream as SSE: id per chunk, the data as stored, a final end event; live reads are not cached', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const handle = await producer(url, 'live-sse');
    const writing = handle.stream(tokens(200, 20, 5));
    await until(async () => (await fetch(`${url}/v1/streams/live-sse`, { headers: { authorization: `Bearer ${API_KEY}` } })).status === 200, 'the stream to open');
    // A stream that is certainly still open answers with no-store (the one above may finish any moment).
    const raw = later(await connectMuxProducer(url, API_KEY), close);
    await raw.emitWithAck('mux:open', { streamId: 'still-open' });
    const head = await fetch(eventsUrl(url, 'still-open'), { headers: { authorization: `Bearer ${await readerToken('still-open')}` } });
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(head.headers.get('cache-control')).toBe('no-store');
    await head.body?.cancel();

    const read = later(readSse(eventsUrl(url, 'live-sse'), { token: await readerToken('live-sse') }), close);
    await writing;
    const events = await read.done;
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(encoded(200));
    expect(read.end).toEqual({ reason: 'completed', lastSeq: 199 });
    expect(read.connections).toBe(1);
  });

  it('resumes EventSource-style through real TCP cuts, several times: every chunk exactly once, in order', async () => {
    const { url, port } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const proxy = later(await startTcpProxy(port), close);
    const handle = await producer(url, 'cut-sse');
    const writing = handle.stream(tokens(1_500, 25, 10));
    await until(async () => (await fetch(`${url}/v1/streams/cut-sse`, { headers: { authorization: `Bearer ${API_KEY}` } })).status === 200, 'the stream to open');
    const read = later(readSse(eventsUrl(proxy.url, 'cut-sse', `?token=${await readerToken('cut-sse')}`)), close);
    for (let cut = 1; cut <= 4; cut++) {
      const before = read.events.length;
      await until(() => read.events.length > before + 50 || read.end !== undefined, `chunks before cut ${cut}`);
      proxy.dropConnections();
    }
    await writing;
    const events = await read.done;
    expect(read.connections).toBeGreaterThanOrEqual(5);
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(encoded(1_500));
  });

  it('starts at ?fromSeq or after Last-Event-ID (which wins); a reconnect past the end gets 204; a finished stream may be cached', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], http: { finishedCacheControl: 'private, max-age=60' } });
    const handle = await producer(url, 'done-sse');
    await handle.stream(Array.from({ length: 10 }, (_, index) => `t${index}`));
    const token = await readerToken('done-sse');

    const fromSeq = await readSse(eventsUrl(url, 'done-sse', '?fromSeq=7'), { token }).done;
    expect(fromSeq.map((event) => event.id)).toEqual([7, 8, 9]);
    const afterId = await readSse(eventsUrl(url, 'done-sse', '?fromSeq=1'), { token, lastEventId: '4' }).done;
    expect(afterId.map((event) => event.id)).toEqual([5, 6, 7, 8, 9]);

    const finished = await fetch(eventsUrl(url, 'done-sse'), { headers: { authorization: `Bearer ${token}` } });
    expect(finished.headers.get('cache-control')).toBe('private, max-age=60');
    const text = await finished.text();
    expect(text.startsWith('retry: 1000\n\n')).toBe(true);
    expect(text).toContain('id: 0\ndata: "t0"\n\n');
    expect(text.endsWith('event: end\ndata: {"reason":"completed","lastSeq":9}\n\n')).toBe(true);

    const past = await fetch(eventsUrl(url, 'done-sse'), { headers: { authorization: `Bearer ${token}`, 'last-event-id': '9' } });
    expect(past.status).toBe(204);
    const pastByQuery = await (await fetch(eventsUrl(url, 'done-sse', `?fromSeq=10&token=${token}`))).text();
    expect(pastByQuery).toBe('retry: 1000\n\nevent: end\ndata: {"reason":"completed","lastSeq":9}\n\n');
  });

  it('serves NDJSON and text for curl; a chunk with line breaks becomes several data lines', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const raw = later(await connectMuxProducer(url, API_KEY), close);
    await raw.emitWithAck('mux:open', { streamId: 'formats' });
    await raw.emitWithAck('mux:chunks', { streamId: 'formats', seq: 0, data: ['"Hello, "', '"world"', '{"tool":1}', 'two\nlines'] });
    await raw.emitWithAck('mux:end', { streamId: 'formats', reason: 'completed', lastSeq: 3 });
    const token = await readerToken('formats');
    const get = (query: string, accept?: string) =>
      fetch(eventsUrl(url, 'formats', query), { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });

    const ndjson = await get('?format=ndjson');
    expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect((await ndjson.text()).trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { seq: 0, data: '"Hello, "' },
      { seq: 1, data: '"world"' },
      { seq: 2, data: '{"tool":1}' },
      { seq: 3, data: 'two\nlines' },
      { end: { reason: 'completed', lastSeq: 3 } },
    ]);
    expect(await (await get('', 'application/x-ndjson')).text()).toContain('{"seq":0,');
    const text = await get('?format=text&fromSeq=0');
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('Hello, world{"tool":1}\ntwo\nlines\n\n');
    expect(await (await get('?fromSeq=3')).text()).toContain('id: 3\ndata: two\ndata: lines\n\n');
  });

  it('answers bad requests with a typed error while a parallel healthy stream is read to the end', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const handle = await producer(url, 'healthy');
    const writing = handle.stream(tokens(300, 10, 10));
    await until(async () => (await fetch(`${url}/v1/streams/healthy`, { headers: { authorization: `Bearer ${API_KEY}` } })).status === 200, 'the stream to open');
    const healthy = later(readSse(eventsUrl(url, 'healthy'), { token: await readerToken('healthy') }), close);
    const other = await producer(url, 'other');
    await other.stream(['x']);

    const expectError = async (response: Response, status: number, code: string, message: RegExp) => {
      expect(response.status).toBe(status);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).toMatch(message);
    };
    const token = await readerToken('healthy', 'missing');
    const auth = { authorization: `Bearer ${token}` };
    await expectError(await fetch(eventsUrl(url, 'missing'), { headers: auth }), 404, 'STREAM_NOT_FOUND', /never opened, or it expired/);
    await expectError(await fetch(eventsUrl(url, 'other'), { headers: auth }), 403, 'FORBIDDEN', /does not cover stream "other"/);
    await expectError(await fetch(eventsUrl(url, 'healthy'), { headers: { ...auth, 'last-event-id': 'abc' } }), 400, 'BAD_REQUEST', /Last-Event-ID "abc"/);
    await expectError(await fetch(eventsUrl(url, 'healthy', '?fromSeq=-1'), { headers: auth }), 400, 'BAD_REQUEST', /\?fromSeq= "-1"/);
    await expectError(await fetch(eventsUrl(url, 'healthy', '?fromSeq=1.5'), { headers: auth }), 400, 'BAD_REQUEST', /integer >= 0/);
    await expectError(await fetch(eventsUrl(url, 'healthy', '?format=xml'), { headers: auth }), 400, 'BAD_REQUEST', /Unknown \?format/);
    await expectError(await fetch(eventsUrl(url, 'bad%20id'), { headers: auth }), 400, 'INVALID_STREAM_ID', /Invalid stream id/);
    await expectError(await fetch(eventsUrl(url, 'healthy')), 401, 'UNAUTHORIZED', /Missing credentials/);
    await expectError(await fetch(eventsUrl(url, 'healthy', `?token=${API_KEY}`)), 401, 'UNAUTHORIZED', /not accepted in the URL/);
    await expectError(await fetch(eventsUrl(url, 'healthy', '?token=a.b.c')), 401, 'UNAUTHORIZED', /./);

    await writing;
    const events = await healthy.done;
    expectConsecutive(events);
    expect(events).toHaveLength(300);
  });

  it('answers CORS preflights and sends keep-alive comments on a quiet stream', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], corsOrigin: ['https://app.example'], http: { keepAliveMs: 50 } });
    const preflight = await fetch(eventsUrl(url, 'quiet'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,last-event-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('last-event-id');

    const raw = later(await connectMuxProducer(url, API_KEY), close);
    await raw.emitWithAck('mux:open', { streamId: 'quiet' });
    const token = await readerToken('quiet');
    const denied = await fetch(eventsUrl(url, 'quiet', `?token=${token}`), { headers: { origin: 'https://evil.example' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    await denied.body?.cancel();
    const read = later(readSse(eventsUrl(url, 'quiet', `?token=${token}`)), close);
    await until(() => read.comments >= 3, 'three keep-alive comments');
    await raw.emitWithAck('mux:chunks', { streamId: 'quiet', seq: 0, data: ['"a"'] });
    await raw.emitWithAck('mux:end', { streamId: 'quiet', reason: 'completed', lastSeq: 0 });
    expect(await read.done).toEqual([{ id: 0, data: '"a"' }]);
  });
});

describe('HTTP readers that stop reading', () => {
  /** A raw HTTP reader that sends its request and never reads the answer. */
  async function stalledReader(port: number, path: string): Promise<{ socket: net.Socket; closed: () => Promise<void> }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.setNoDelay(true);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    // Reads nothing: the kernel buffers fill, then the relay's queue.
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    later(socket, (value) => value.destroy());
    // A paused socket never sees the relay close it: read what is buffered, then the close.
    return { socket, closed: () => (socket.resume(), closed) };
  }

  it('drops a reader whose queue passes the byte limit (bounded memory), while a reading reader gets every chunk', async () => {
    const limit = 256 * 1024;
    const { url, port } = await startTestRelay(later, { apiKeys: [API_KEY], store: memoryStore(), limits: { maxQueuedBytesPerReader: limit, slowReaderTimeoutMs: 60_000 } });
    const raw = later(await connectMuxProducer(url, API_KEY), close);
    await raw.emitWithAck('mux:open', { streamId: 'firehose' });
    const token = await readerToken('firehose');
    const stalled = await stalledReader(port, `/v1/streams/firehose/events?token=${token}`);
    const reading = later(readSse(eventsUrl(url, 'firehose'), { token }), close);
    await until(async () => (await metric(url, 'ss_relay_http_readers ')) === 2, 'both readers connected');

    const chunk = JSON.stringify('x'.repeat(16 * 1024));
    let seq = 0;
    let maxQueued = 0;
    // 20 MiB in total: far more than the kernel's socket buffers and the limit (and under the 32 MiB stream quota).
    while (seq < 1_280) {
      const data = Array.from({ length: 64 }, () => chunk);
      expect(await raw.emitWithAck('mux:chunks', { streamId: 'firehose', seq, data })).toMatchObject({ ok: true });
      seq += data.length;
      maxQueued = Math.max(maxQueued, await metric(url, 'ss_relay_http_reader_queued_bytes'));
      if (seq % 640 === 0) await until(() => reading.events.length >= seq - 640, 'the reading reader to keep up');
    }
    await raw.emitWithAck('mux:end', { streamId: 'firehose', reason: 'completed', lastSeq: seq - 1 });

    await until(async () => (await metric(url, 'ss_relay_http_readers_dropped_total{reason="maxQueuedBytesPerReader"}')) === 1, 'the stalled reader to be dropped');
    await stalled.closed();
    // What the relay held for readers never went much past the limit (one frame of 64 chunks over it at most).
    expect(maxQueued).toBeLessThan(limit + 64 * (chunk.length + 32) + 1);
    const events = await reading.done;
    expect(events).toHaveLength(seq);
    expectConsecutive(events);
    await until(async () => (await metric(url, 'ss_relay_http_readers ')) === 0, 'no reader left');
  });

  it('drops a reader that leaves queued bytes untouched for the stall timeout', async () => {
    const { url, port } = await startTestRelay(later, { apiKeys: [API_KEY], limits: { maxQueuedBytesPerReader: 64 * 1024 * 1024, slowReaderTimeoutMs: 300 } });
    const raw = later(await connectMuxProducer(url, API_KEY), close);
    await raw.emitWithAck('mux:open', { streamId: 'stall' });
    const stalled = await stalledReader(port, `/v1/streams/stall/events?token=${await readerToken('stall')}`);
    await until(async () => (await metric(url, 'ss_relay_http_readers ')) === 1, 'the reader connected');
    const chunk = JSON.stringify('y'.repeat(64 * 1024));
    // Enough to fill the socket buffers (a few MiB), so bytes wait in the relay's queue.
    for (let seq = 0; seq < 256; seq += 16) {
      await raw.emitWithAck('mux:chunks', { streamId: 'stall', seq, data: Array.from({ length: 16 }, () => chunk) });
    }
    await until(async () => (await metric(url, 'ss_relay_http_readers_dropped_total{reason="slowReaderTimeoutMs"}')) === 1, 'the stalled reader to be dropped');
    await stalled.closed();
    expect(await metric(url, 'ss_relay_http_reader_queued_bytes')).toBe(0);
  });
});
