// The Durable Streams face (/ds) with real HTTP clients: its auth, a stream shared with the
// Socket.IO face, bad inputs beside a healthy reader, a reader that stops reading, and two relays
// on one Redis. (The protocol itself is checked by the conformance suite, durable-streams-conformance.test.ts.)
import net from 'node:net';
import { mintClientToken, streamstraightServer } from '@ss/core';
import { describe, expect, it } from 'vitest';
import { type RelayOptions, redisStore } from '../src/index.js';
import { close, useCleanups, useForBlock } from './support/cleanups.js';
import { connectReader, readToEnd } from './support/raw-clients.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { startRelayProcess } from './support/relay-process.js';
import { type SseEvent, openSse } from './support/sse-events.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-durable-streams';
const later = useCleanups();
const asKey = { authorization: `Bearer ${API_KEY}` };

const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [API_KEY], ...options });

async function put(url: string, contentType: string, body?: string, headers: Record<string, string> = asKey): Promise<Response> {
  return fetch(url, { method: 'PUT', headers: { 'content-type': contentType, ...headers }, body });
}

async function post(url: string, contentType: string, body: string, headers: Record<string, string> = asKey): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
}

/** The error body every refusal of the face carries. */
async function errorOf(response: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, ...body.error };
}

/** The JSON messages an SSE reader received so far, in order. */
const messagesOf = (events: readonly SseEvent[]): unknown[] =>
  events.filter((event) => event.event === 'data').flatMap((event) => JSON.parse(event.data) as unknown[]);

describe('Durable Streams face', () => {
  it('writes need the API key; reads take it or a client token for that stream (header or ?token=)', async () => {
    const { url } = await startRelay();
    const stream = `${url}/ds/doc-a`;
    const refused = await put(stream, 'application/json', undefined, {});
    expect(await errorOf(refused)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    expect((await put(stream, 'application/json', undefined, { authorization: 'Bearer wrong-key' })).status).toBe(401);
    expect((await put(stream, 'application/json', '[{"n":1}]')).status).toBe(201);
    expect((await put(`${url}/ds/doc-b`, 'application/json')).status).toBe(201);

    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['doc-a'], expiresIn: '10m' });
    expect(await errorOf(await post(stream, 'application/json', '{"n":2}', { authorization: `Bearer ${token}` }))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await (await fetch(stream, { headers: { authorization: `Bearer ${token}` } })).json()).toEqual([{ n: 1 }]);
    expect(await (await fetch(`${stream}?offset=-1&token=${token}`)).json()).toEqual([{ n: 1 }]);
    expect((await fetch(stream, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(await errorOf(await fetch(`${url}/ds/doc-b?token=${token}`))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await fetch(`${stream}?offset=-1`)).status).toBe(401);
    expect((await fetch(stream, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    expect((await fetch(stream, { method: 'DELETE', headers: asKey })).status).toBe(204);
  });

  it('wrong credentials count against the address like refused handshakes: past maxFailedHandshakesPerIp, 429 RATE_LIMITED even with the right key', async () => {
    const { url } = await startRelay({ limits: { maxFailedHandshakesPerIp: 3, failedHandshakeWindowMs: 60_000 } });
    expect((await put(`${url}/ds/guarded`, 'text/plain')).status).toBe(201);
    expect((await fetch(`${url}/ds/guarded`)).status).toBe(401); // no credentials: not counted
    for (const wrong of ['Bearer not-the-key', 'Bearer not.a.token', 'Bearer still-wrong']) {
      expect((await fetch(`${url}/ds/guarded`, { headers: { authorization: wrong } })).status).toBe(401);
    }
    const limited = await fetch(`${url}/ds/guarded`, { headers: asKey });
    expect(await errorOf(limited)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a stream written over Socket.IO reads over Durable Streams, live over SSE; closing over Durable Streams ends it for Socket.IO readers', async () => {
    const { url } = await startRelay();
    const producer = later(await streamstraightServer({ apiKey: API_KEY, baseUrl: url }, { streamId: 'chat-7' }), (handle) => handle.disconnect());
    let release = () => {};
    const secondPart = new Promise<void>((resolve) => {
      release = resolve;
    });
    const streaming = producer.stream(
      (async function* () {
        yield 'Hello';
        await secondPart;
        yield ', world';
      })(),
    );
    await until(async () => (await fetch(`${url}/ds/chat-7`, { method: 'HEAD', headers: asKey })).headers.get('stream-next-offset') === '0000000000000001_0000000000000000', 'the first chunk stored');
    const sse = later(await openSse(`${url}/ds/chat-7?offset=-1&live=sse`, asKey), (reader) => reader.close());
    expect(sse.response.headers.get('content-type')).toBe('text/event-stream');
    await until(() => messagesOf(sse.events).length === 1, 'the stored chunk over SSE');
    release();
    await streaming;
    await until(() => sse.events.some((event) => event.event === 'control' && JSON.parse(event.data).streamClosed === true), 'the end as streamClosed');
    expect(messagesOf(sse.events)).toEqual(['Hello', ', world']);
    await sse.ended;
    const catchUp = await fetch(`${url}/ds/chat-7?offset=-1`, { headers: asKey });
    expect(catchUp.headers.get('content-type')).toBe('application/json');
    expect(catchUp.headers.get('stream-closed')).toBe('true');
    expect(await catchUp.json()).toEqual(['Hello', ', world']);

    // The other way: appended and closed over Durable Streams, read over Socket.IO.
    expect((await put(`${url}/ds/notes`, 'application/json', '["first"]')).status).toBe(201);
    const closing = await fetch(`${url}/ds/notes`, { method: 'POST', headers: { 'content-type': 'application/json', 'stream-closed': 'true', ...asKey }, body: '"last"' });
    expect(closing.status).toBe(204);
    const reader = later(await connectReader(url, API_KEY, ['notes']), close);
    const read = await readToEnd(reader, 'notes');
    expect(read.data).toEqual(['"first"', '"last"']);
    expect(read.end).toEqual({ reason: 'completed', lastSeq: 1 });
  });

  it('bad inputs get a typed error and a status; a healthy stream read over SSE meanwhile gets every message once, in order', async () => {
    const { url } = await startRelay({ durableStreams: { maxAppendBytes: 1024 } });
    expect((await put(`${url}/ds/healthy`, 'application/json')).status).toBe(201);
    expect((await put(`${url}/ds/target`, 'application/json', '[1]')).status).toBe(201);
    const sse = later(await openSse(`${url}/ds/healthy?offset=-1&live=sse`, asKey), (reader) => reader.close());
    const otherToken = await mintClientToken({ apiKey: API_KEY, streamIds: ['someone-else'], expiresIn: '10m' });

    const bad: Array<[Promise<Response>, number, string, RegExp]> = [
      [fetch(`${url}/ds/missing`, { headers: asKey }), 404, 'STREAM_NOT_FOUND', /No stream "missing"/],
      [fetch(`${url}/ds/target?offset=12,3`, { headers: asKey }), 400, 'BAD_REQUEST', /Malformed offset "12,3"/],
      [fetch(`${url}/ds/target?offset=0000000000000009_0000000000000000`, { headers: asKey }), 400, 'BAD_REQUEST', /past the end/],
      [fetch(`${url}/ds/target?offset=-1&live=sse`, { headers: { authorization: `Bearer ${otherToken}` } }), 403, 'FORBIDDEN', /does not cover stream "target"/],
      [post(`${url}/ds/target`, 'application/json', JSON.stringify('x'.repeat(2048))), 413, 'CHUNK_TOO_LARGE', /larger than 1024 bytes/],
      [post(`${url}/ds/target`, 'application/json', '{"broken'), 400, 'BAD_REQUEST', /not valid JSON/],
      [post(`${url}/ds/target`, 'text/plain', 'hello'), 409, 'BAD_REQUEST', /does not match/],
      [post(`${url}/ds/has%20space`, 'application/json', '1'), 400, 'INVALID_STREAM_ID', /Invalid stream id/],
      [fetch(`${url}/ds/target`, { method: 'PATCH', headers: asKey }), 405, 'BAD_REQUEST', /not part of the Durable Streams protocol/],
    ];
    const healthyWrites: Promise<Response>[] = [];
    for (let index = 0; index < 30; index++) healthyWrites.push(post(`${url}/ds/healthy`, 'application/json', JSON.stringify({ index }), { ...asKey, 'producer-id': 'w', 'producer-epoch': '0', 'producer-seq': String(index) }));
    for (const [answer, status, code, message] of bad) {
      const error = await errorOf(await answer);
      expect(error.status, error.message).toBe(status);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect((await Promise.all(healthyWrites)).map((response) => response.status)).toEqual(Array(30).fill(200));
    await until(() => messagesOf(sse.events).length >= 30, 'every healthy message over SSE');
    expect(messagesOf(sse.events)).toEqual(Array.from({ length: 30 }, (_, index) => ({ index })));
    expect(await (await fetch(`${url}/ds/target`, { headers: asKey })).json()).toEqual([1]);
  });

  it('an SSE reader that stops reading is dropped past maxReaderBufferBytes; a reader that reads gets every append', async () => {
    const bound = 256 * 1024;
    const { url, port } = await startRelay({ durableStreams: { maxReaderBufferBytes: bound, maxAppendBytes: 128 * 1024 } });
    expect((await put(`${url}/ds/firehose`, 'text/plain')).status).toBe(201);
    // The slow reader: a raw socket that asks for the live stream and then never reads.
    const slow = later(net.connect(port, '127.0.0.1'), (socket) => socket.destroy());
    slow.on('error', () => {});
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`GET /ds/firehose?offset=now&live=sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${API_KEY}\r\n\r\n`);
    slow.pause();
    const fast = later(await openSse(`${url}/ds/firehose?offset=now&live=sse`, asKey), (reader) => reader.close());
    await until(() => fast.events.length > 0, 'the fast reader to start');
    const metric = async (pattern: RegExp) => (await (await fetch(`${url}/metrics`)).text()).match(pattern)?.[1];
    const scrape = () => metric(/^ss_relay_ds_readers_dropped_total (\d+)/m);
    await until(async () => (await metric(/^ss_relay_ds_live_readers\{mode="sse"\} (\d+)/m)) === '2', 'both SSE readers to wait');
    const piece = 'x'.repeat(100 * 1024);
    let appended = 0;
    // Kernel socket buffers hold several MB on loopback before the relay's own buffer grows.
    while ((await scrape()) !== '1' && appended < 400) {
      const response = await post(`${url}/ds/firehose`, 'text/plain', `${appended}:${piece}`);
      expect(response.status).toBe(204);
      appended++;
    }
    expect(await scrape()).toBe('1');
    // The slow reader's response is gone on the relay's side (its client, which reads nothing, cannot tell yet).
    await until(async () => (await metric(/^ss_relay_ds_live_readers\{mode="sse"\} (\d+)/m)) === '1', 'the relay to drop the slow reader');
    const received = () => fast.events.filter((event) => event.event === 'data').map((event) => event.data).join('');
    const expected = Array.from({ length: appended }, (_, index) => `${index}:${piece}`).join('');
    await until(() => received().length >= expected.length, 'the fast reader to get every append', 20_000);
    expect(received() === expected, 'the fast reader got every append once, in order').toBe(true);
    expect(await scrape()).toBe('1');
  });
});

describe('Durable Streams face: limits, replaced streams, shutdown', () => {
  it('maxReadBytes pages a catch-up read; sseMaxDurationMs ends an SSE response; maxForkChunks refuses a large fork', async () => {
    const { url } = await startRelay({ durableStreams: { maxReadBytes: 1000, sseMaxDurationMs: 500, maxForkChunks: 5 } });
    expect((await put(`${url}/ds/pages`, 'text/plain')).status).toBe(201);
    const appends = Array.from({ length: 10 }, (_, index) => `${index}`.padEnd(400, '.'));
    for (const text of appends) expect((await post(`${url}/ds/pages`, 'text/plain', text)).status).toBe(204);
    const pages: string[] = [];
    let offset = '-1';
    for (;;) {
      const response = await fetch(`${url}/ds/pages?offset=${offset}`, { headers: asKey });
      const body = await response.text();
      if (body.length > 0) pages.push(body);
      offset = response.headers.get('stream-next-offset')!;
      if (response.headers.get('stream-up-to-date') === 'true') break;
      expect(body.length, 'a page that is not the last holds up to maxReadBytes').toBeLessThanOrEqual(1000);
    }
    expect(pages.length).toBe(5);
    expect(pages.join('')).toBe(appends.join(''));
    expect(offset).toBe('0000000000000010_0000000000000000');

    // The SSE response ends after sseMaxDurationMs, wherever it is: its last control event says where to resume.
    const started = Date.now();
    const sse = later(await openSse(`${url}/ds/pages?offset=-1&live=sse`, asKey), (reader) => reader.close());
    await sse.ended;
    expect(Date.now() - started).toBeLessThan(5_000);
    const controls = sse.events.filter((event) => event.event === 'control').map((event) => JSON.parse(event.data) as { streamNextOffset: string });
    const resumeAt = Number(controls.at(-1)!.streamNextOffset.split('_')[0]);
    expect(sse.events.filter((event) => event.event === 'data').map((event) => event.data).join('')).toBe(appends.slice(0, resumeAt).join(''));

    const fork = await fetch(`${url}/ds/pages-fork`, { method: 'PUT', headers: { ...asKey, 'content-type': 'text/plain', 'stream-forked-from': '/pages' } });
    expect(await errorOf(fork)).toMatchObject({ status: 413, code: 'CHUNK_TOO_LARGE' });
    const smallFork = await fetch(`${url}/ds/pages-fork`, {
      method: 'PUT',
      headers: { ...asKey, 'content-type': 'text/plain', 'stream-forked-from': '/pages', 'stream-fork-offset': '0000000000000003_0000000000000000' },
    });
    expect(smallFork.status).toBe(201);
    expect(smallFork.headers.get('stream-next-offset')).toBe('0000000000000003_0000000000000000');
    expect(await (await fetch(`${url}/ds/pages-fork`, { headers: asKey })).text()).toBe(appends.slice(0, 2).join('')); // a page of maxReadBytes
    expect(await (await fetch(`${url}/ds/pages-fork?offset=0000000000000002_0000000000000000`, { headers: asKey })).text()).toBe(appends[2]);
  });

  it('a stream deleted and created again under a live SSE reader ends that response instead of continuing into the new stream', async () => {
    const { url } = await startRelay({ durableStreams: { longPollTimeoutMs: 300 } });
    expect((await put(`${url}/ds/reused`, 'application/json', '["old"]')).status).toBe(201);
    const sse = later(await openSse(`${url}/ds/reused?offset=-1&live=sse`, asKey), (reader) => reader.close());
    await until(() => messagesOf(sse.events).length === 1, 'the old message');
    expect((await fetch(`${url}/ds/reused`, { method: 'DELETE', headers: asKey })).status).toBe(204);
    expect((await put(`${url}/ds/reused`, 'application/json', '["new-0","new-1"]')).status).toBe(201);
    expect((await post(`${url}/ds/reused`, 'application/json', '"new-2"')).status).toBe(204);
    await sse.ended;
    expect(messagesOf(sse.events)).toEqual(['old']);
  });

  it('relay.close() answers a waiting long-poll (204) and ends SSE responses at once', async () => {
    const { relay, url } = await startRelay();
    const created = await put(`${url}/ds/waiting`, 'application/json');
    const tail = created.headers.get('stream-next-offset')!;
    const sse = later(await openSse(`${url}/ds/waiting?offset=now&live=sse`, asKey), (reader) => reader.close());
    await until(() => sse.events.length > 0, 'the SSE reader to start');
    const longPoll = fetch(`${url}/ds/waiting?offset=${tail}&live=long-poll`, { headers: asKey });
    const metric = async () => (await (await fetch(`${url}/metrics`)).text()).match(/^ss_relay_ds_live_readers\{mode="long-poll"\} (\d+)/m)?.[1];
    await until(async () => (await metric()) === '1', 'the long-poll to wait');
    const started = Date.now();
    const closing = relay.close();
    const answer = await longPoll;
    expect(answer.status).toBe(204);
    expect(answer.headers.get('stream-up-to-date')).toBe('true');
    await sse.ended;
    await closing;
    expect(Date.now() - started, 'the relay closed without waiting for the 20 s long-poll').toBeLessThan(5_000);
  });
});

describe('ss-relay --durable-streams', () => {
  it('open serves /ds without credentials (and says so); off turns the face off; authenticated is the default', async () => {
    const open = later(await startRelayProcess(['--api-key', API_KEY, '--durable-streams', 'open']), (relay) => relay.kill());
    expect(open.output()).toMatch(/Durable Streams at http:\/\/127\.0\.0\.1:\d+\/ds WITHOUT credentials/);
    expect((await put(`${open.url}/ds/anyone`, 'text/plain', 'hi', {})).status).toBe(201);
    expect(await (await fetch(`${open.url}/ds/anyone`)).text()).toBe('hi');
    const off = later(await startRelayProcess(['--api-key', API_KEY], { SS_DURABLE_STREAMS: 'off' }), (relay) => relay.kill());
    expect(await errorOf(await put(`${off.url}/ds/anyone`, 'text/plain', 'hi'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const byDefault = later(await startRelayProcess(['--api-key', API_KEY], { SS_DURABLE_STREAMS: '' }), (relay) => relay.kill());
    expect((await put(`${byDefault.url}/ds/anyone`, 'text/plain', 'hi', {})).status).toBe(401);
  }, 120_000); // the first start may build the CLI
});

describe.skipIf(redisServerMissing)('Durable Streams face on Redis, two relays', () => {
  const server = useForBlock(() => startRedisServer());

  it('a long-poll and an SSE reader on relay B get what a POST on relay A appended; an idempotent retry on B is not stored twice', async () => {
    const a = await startRelay({ store: redisStore({ url: server().url }) });
    const b = await startRelay({ store: redisStore({ url: server().url }) });
    const created = await put(`${a.url}/ds/shared-doc`, 'application/json');
    expect(created.status).toBe(201);
    const tail = created.headers.get('stream-next-offset')!;
    const longPoll = fetch(`${b.url}/ds/shared-doc?offset=${tail}&live=long-poll`, { headers: asKey });
    const sse = later(await openSse(`${b.url}/ds/shared-doc?offset=${tail}&live=sse`, asKey), (reader) => reader.close());
    await until(() => sse.events.length > 0, 'the SSE reader on B to start');
    const producer = { ...asKey, 'producer-id': 'writer-1', 'producer-epoch': '0', 'producer-seq': '0' };
    expect((await post(`${a.url}/ds/shared-doc`, 'application/json', '[{"n":1},{"n":2}]', producer)).status).toBe(200);
    const polled = await longPoll;
    expect(polled.status).toBe(200);
    expect(await polled.json()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(polled.headers.get('stream-next-offset')).toBe('0000000000000002_0000000000000000');
    // The producer's retry lands on relay B: a duplicate, not stored again.
    const retry = await post(`${b.url}/ds/shared-doc`, 'application/json', '[{"n":1},{"n":2}]', producer);
    expect(retry.status).toBe(204);
    expect(retry.headers.get('producer-seq')).toBe('0');
    expect((await post(`${b.url}/ds/shared-doc`, 'application/json', '{"n":3}', { ...producer, 'producer-seq': '1' })).status).toBe(200);
    await until(() => messagesOf(sse.events).length >= 3, 'three messages over SSE on B');
    expect(messagesOf(sse.events)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await (await fetch(`${a.url}/ds/shared-doc`, { headers: asKey })).json()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});
