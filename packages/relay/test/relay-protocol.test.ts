// The relay at the wire level: stream-v1 and mux producers written by hand with socket.io-client,
// readers subscribing from any seq, and every kind of bad input.
import { mintClientToken } from '@ss/core';
import { oneSecondToken } from './support/short-lived-token.js';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { createRelay, type RelayOptions } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectRaw, connectReader, nextEvent, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-protocol';
const later = useCleanups();
const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [API_KEY], ...options });
const track = <T extends Socket>(socket: T): T => later(socket, close);

const chunk = (index: number) => JSON.stringify(`token-${index} `);

/** Writes `count` chunks through a mux connection in frames of `frameSize`, then ends. */
async function produceMux(producer: Socket, streamId: string, count: number, frameSize = 100) {
  const open = await producer.emitWithAck('mux:open', { streamId });
  expect(open).toMatchObject({ ok: true, info: { streamId, status: 'open', lastSeq: -1 } });
  for (let seq = 0; seq < count; seq += frameSize) {
    const data = Array.from({ length: Math.min(frameSize, count - seq) }, (_, offset) => chunk(seq + offset));
    const ack = await producer.emitWithAck('mux:chunks', { streamId, seq, data });
    expect(ack).toEqual({ ok: true, lastSeq: seq + data.length - 1 });
  }
  return producer.emitWithAck('mux:end', { streamId, reason: 'completed', lastSeq: count - 1 });
}

describe('stream-v1 producer written with plain socket.io-client', () => {
  it('streams chunks without waiting for acks, gets an ack per chunk and an acked end', async () => {
    const { relay, url } = await startRelay();
    let info: Promise<unknown> | undefined;
    const producer = track(
      await connectRaw(url, {
        apiKey: API_KEY,
        auth: { role: 'producer', streamId: 'v1-stream', version: 'stream-v1', sdkVersion: '0.2.0' },
        beforeConnect: (socket) => (info = nextEvent(socket, 'stream:info')),
      }),
    );
    expect(await info).toMatchObject({ streamId: 'v1-stream', ended: false });
    const acks: number[] = [];
    producer.on('producer:ack', (ack: { seq: number; redisId: string }) => acks.push(ack.seq));
    for (let seq = 0; seq < 300; seq++) producer.emit('producer:chunk', { seq, data: chunk(seq) });
    const end = await producer.timeout(5_000).emitWithAck('producer:end', { reason: 'completed', lastSeq: 299 });
    expect(end).toMatchObject({ success: true });
    expect(acks).toEqual(Array.from({ length: 300 }, (_, seq) => seq));
    expect(await relay.store.read('v1-stream', 0, 1000)).toEqual(Array.from({ length: 300 }, (_, seq) => chunk(seq)));

    const reader = track(await connectReader(url, API_KEY, ['v1-stream']));
    const result = await readToEnd(reader, 'v1-stream');
    expect(result.data).toHaveLength(300);
    expect(result.end).toEqual({ reason: 'completed', lastSeq: 299 });
  });

  it('a reconnecting stream-v1 producer re-attaches and its resent chunks are dropped', async () => {
    const { relay, url } = await startRelay();
    const auth = { role: 'producer', streamId: 'v1-again', version: 'stream-v1' };
    let firstInfo: Promise<unknown> | undefined;
    const first = track(await connectRaw(url, { apiKey: API_KEY, auth, beforeConnect: (socket) => (firstInfo = nextEvent(socket, 'stream:info')) }));
    await firstInfo;
    for (let seq = 0; seq < 5; seq++) first.emit('producer:chunk', { seq, data: chunk(seq) });
    await new Promise<void>((resolve) => first.on('producer:ack', (ack: { seq: number }) => ack.seq === 4 && resolve()));
    first.close();
    let secondInfo: Promise<unknown> | undefined;
    const second = track(await connectRaw(url, { apiKey: API_KEY, auth, beforeConnect: (socket) => (secondInfo = nextEvent(socket, 'stream:info')) }));
    expect(await secondInfo).toMatchObject({ lastSeq: 4, ended: false });
    for (let seq = 3; seq < 8; seq++) second.emit('producer:chunk', { seq, data: chunk(seq) });
    expect(await second.timeout(5_000).emitWithAck('producer:end', { reason: 'completed', lastSeq: 7 })).toMatchObject({ success: true });
    expect(await relay.store.read('v1-again', 0, 100)).toEqual(Array.from({ length: 8 }, (_, seq) => chunk(seq)));
  });
});

describe('readers', () => {
  it('readers joining before, during and after the end each get every chunk once, in order', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'three-readers' });
    const early = track(await connectReader(url, API_KEY, ['three-readers']));
    const earlyResult = readToEnd(early, 'three-readers');
    const total = 5_000;
    let middleResult: ReturnType<typeof readToEnd> | undefined;
    for (let seq = 0; seq < total; seq += 50) {
      const data = Array.from({ length: 50 }, (_, offset) => chunk(seq + offset));
      await producer.emitWithAck('mux:chunks', { streamId: 'three-readers', seq, data });
      if (seq === 2_500) middleResult = readToEnd(track(await connectReader(url, API_KEY, ['three-readers'])), 'three-readers');
    }
    await producer.emitWithAck('mux:end', { streamId: 'three-readers', reason: 'completed', lastSeq: total - 1 });
    const lateResult = readToEnd(track(await connectReader(url, API_KEY, ['three-readers'])), 'three-readers');
    const expected = Array.from({ length: total }, (_, seq) => chunk(seq));
    for (const result of await Promise.all([earlyResult, middleResult!, lateResult])) {
      expect(result.data).toEqual(expected);
      expect(result.end).toEqual({ reason: 'completed', lastSeq: total - 1 });
    }
  });

  it('a reader can start at any fromSeq, including the tail of a live stream', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'from-seq' });
    await producer.emitWithAck('mux:chunks', { streamId: 'from-seq', seq: 0, data: ['a', 'b', 'c'].map((x) => JSON.stringify(x)) });
    const mid = readToEnd(track(await connectReader(url, API_KEY, ['from-seq'])), 'from-seq', 2);
    const ahead = readToEnd(track(await connectReader(url, API_KEY, ['from-seq'])), 'from-seq', 4);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await producer.emitWithAck('mux:chunks', { streamId: 'from-seq', seq: 3, data: ['"d"', '"e"'] });
    await producer.emitWithAck('mux:end', { streamId: 'from-seq', reason: 'completed', lastSeq: 4 });
    expect((await mid).data).toEqual(['"c"', '"d"', '"e"']);
    expect((await ahead).data).toEqual(['"e"']);
  });

  it('a subscription in the handshake delivers from the connection on; the same subscribe after it is only answered', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await produceMux(producer, 'handshake-done', 300);
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['handshake-done', 'handshake-live'] });
    const expected = Array.from({ length: 300 }, (_, seq) => chunk(seq));

    // A finished stream, from seq 100: everything and the end arrive without any event from the reader.
    const received: string[] = [];
    const frames: number[] = [];
    let ended!: Promise<unknown>;
    const finished = track(
      await connectRaw(url, {
        auth: { role: 'consumer', token, subscribe: { streamId: 'handshake-done', fromSeq: 100 } },
        beforeConnect: (socket) => {
          socket.on('stream:chunks', (frame: { seq: number; data: string[] }) => {
            frames.push(frame.seq);
            received.push(...frame.data);
          });
          ended = nextEvent(socket, 'stream:end');
        },
      }),
    );
    expect(await ended).toEqual({ streamId: 'handshake-done', reason: 'completed', lastSeq: 299 });
    expect(received).toEqual(expected.slice(100));
    // The reader's own subscribe at the same position is answered, and nothing is sent twice.
    expect(await finished.emitWithAck('consumer:subscribe', { streamId: 'handshake-done', fromSeq: 100 })).toMatchObject({
      ok: true,
      info: { status: 'ended', lastSeq: 299 },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(200);
    expect(frames).toEqual([100]);
    // A later subscribe is a new one: it replays from where it asks.
    expect((await readToEnd(finished, 'handshake-done', 250)).data).toEqual(expected.slice(250));

    // A live stream: the handshake subscription and the reader's subscribe make one delivery of each chunk.
    await producer.emitWithAck('mux:open', { streamId: 'handshake-live' });
    const live = track(await connectRaw(url, { auth: { role: 'consumer', token, subscribe: { streamId: 'handshake-live', fromSeq: 0 } } }));
    const liveResult = readToEnd(live, 'handshake-live');
    for (let seq = 0; seq < 300; seq += 30) await producer.emitWithAck('mux:chunks', { streamId: 'handshake-live', seq, data: expected.slice(seq, seq + 30) });
    await producer.emitWithAck('mux:end', { streamId: 'handshake-live', reason: 'completed', lastSeq: 299 });
    expect((await liveResult).data).toEqual(expected);

    // A refused handshake subscription is reported by the reader's subscribe, with its code.
    const outOfScope = track(await connectRaw(url, { auth: { role: 'consumer', token, subscribe: { streamId: 'not-in-token' } } }));
    expect(await outOfScope.emitWithAck('consumer:subscribe', { streamId: 'not-in-token' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const unknown = track(await connectRaw(url, { auth: { role: 'consumer', token: await mintClientToken({ apiKey: API_KEY, streamIds: ['nope'] }), subscribe: { streamId: 'nope' } } }));
    expect(await unknown.emitWithAck('consumer:subscribe', { streamId: 'nope' })).toMatchObject({ ok: false, error: { code: 'STREAM_NOT_FOUND' } });
    await expect(connectRaw(url, { auth: { role: 'consumer', token, subscribe: { streamId: 42 } } })).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });

  it('one reader connection reads several streams', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    const reader = track(await connectReader(url, API_KEY, ['multi-a', 'multi-b']));
    await producer.emitWithAck('mux:open', { streamId: 'multi-a' });
    await producer.emitWithAck('mux:open', { streamId: 'multi-b' });
    const a = readToEnd(reader, 'multi-a');
    const b = readToEnd(reader, 'multi-b');
    await producer.emitWithAck('mux:chunks', { streamId: 'multi-a', seq: 0, data: ['"a0"'] });
    await producer.emitWithAck('mux:chunks', { streamId: 'multi-b', seq: 0, data: ['"b0"', '"b1"'] });
    await producer.emitWithAck('mux:end', { streamId: 'multi-a', reason: 'completed', lastSeq: 0 });
    await producer.emitWithAck('mux:end', { streamId: 'multi-b', reason: 'producer-error', lastSeq: 1 });
    expect(await a).toMatchObject({ data: ['"a0"'], end: { reason: 'completed', lastSeq: 0 } });
    expect(await b).toMatchObject({ data: ['"b0"', '"b1"'], end: { reason: 'producer-error', lastSeq: 1 } });
  });

  it('a cancel from a reader with the cancel scope reaches the producer as mux:cancel', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'cancel-me' });
    const cancelled = nextEvent<{ streamId: string; reason: string }>(producer, 'mux:cancel');
    const readOnly = track(await connectReader(url, API_KEY, ['cancel-me']));
    expect(await readOnly.emitWithAck('consumer:cancel', { streamId: 'cancel-me' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const canceller = track(await connectReader(url, API_KEY, ['cancel-me'], true));
    expect(await canceller.emitWithAck('consumer:cancel', { streamId: 'cancel-me', reason: 'user pressed stop' })).toEqual({ ok: true });
    expect(await cancelled).toEqual({ streamId: 'cancel-me', reason: 'user pressed stop' });
  });

  it('a stream whose producer vanished ends with producer-disconnected after the grace period', async () => {
    const { relay, url } = await startRelay({ producerGraceMs: 100 });
    const producer = await connectMuxProducer(url, API_KEY);
    await producer.emitWithAck('mux:open', { streamId: 'abandoned' });
    await producer.emitWithAck('mux:chunks', { streamId: 'abandoned', seq: 0, data: ['"x"'] });
    const reader = track(await connectReader(url, API_KEY, ['abandoned']));
    const result = readToEnd(reader, 'abandoned');
    producer.close();
    expect(await result).toMatchObject({ data: ['"x"'], end: { reason: 'producer-disconnected', lastSeq: 0 } });
    expect(await relay.store.info('abandoned')).toMatchObject({ status: 'ended', endReason: 'producer-disconnected' });
  });
});

describe('a resume must carry the openId of the stream it resumes', () => {
  it('another connection resuming without the openId, or with another one, is refused and the owner keeps writing', async () => {
    const { relay, url } = await startRelay();
    const owner = track(await connectMuxProducer(url, API_KEY));
    expect(await owner.emitWithAck('mux:open', { streamId: 'owned', openId: 'owner-open-id' })).toMatchObject({ ok: true });
    expect(await owner.emitWithAck('mux:chunks', { streamId: 'owned', seq: 0, data: ['"a"'] })).toEqual({ ok: true, lastSeq: 0 });

    const intruder = track(await connectMuxProducer(url, API_KEY));
    const withoutOpenId = await intruder.emitWithAck('mux:open', { streamId: 'owned', resume: true });
    expect(withoutOpenId).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(withoutOpenId.error.message).toContain('openId');
    expect(await intruder.emitWithAck('mux:open', { streamId: 'owned', resume: true, openId: 'guessed' })).toMatchObject({ ok: false, error: { code: 'STREAM_EXISTS' } });
    expect(await intruder.emitWithAck('mux:chunks', { streamId: 'owned', seq: 1, data: ['"intruder"'] })).toMatchObject({ ok: false, error: { code: 'STREAM_NOT_FOUND' } });

    // The owner never lost its lease.
    expect(await owner.emitWithAck('mux:chunks', { streamId: 'owned', seq: 1, data: ['"b"'] })).toEqual({ ok: true, lastSeq: 1 });
    expect(await owner.emitWithAck('mux:end', { streamId: 'owned', reason: 'completed', lastSeq: 1 })).toMatchObject({ ok: true });
    expect(await relay.store.read('owned', 0, 10)).toEqual(['"a"', '"b"']);

    // The owner itself, reconnected, resumes with its openId.
    const back = track(await connectMuxProducer(url, API_KEY));
    expect(await back.emitWithAck('mux:open', { streamId: 'owned', resume: true, openId: 'owner-open-id' })).toMatchObject({ ok: true, info: { status: 'ended', lastSeq: 1 } });
  });
});

describe('bad input gets a typed error and never disturbs a healthy stream', () => {
  it('each bad frame is refused with its code while a parallel stream completes intact', async () => {
    const { relay, url } = await startRelay({ maxChunkBytes: 1024 });
    const healthy = track(await connectMuxProducer(url, API_KEY));
    const reader = track(await connectReader(url, API_KEY, ['healthy']));
    await healthy.emitWithAck('mux:open', { streamId: 'healthy' });
    const healthyRead = readToEnd(reader, 'healthy');
    const healthyWrite = (async () => {
      for (let seq = 0; seq < 2_000; seq += 20) {
        await healthy.emitWithAck('mux:chunks', { streamId: 'healthy', seq, data: Array.from({ length: 20 }, (_, offset) => chunk(seq + offset)) });
      }
      await healthy.emitWithAck('mux:end', { streamId: 'healthy', reason: 'completed', lastSeq: 1_999 });
    })();

    const bad = track(await connectMuxProducer(url, API_KEY));
    const errors: Array<{ code: string; message: string }> = [];
    bad.on('stream:error', (error: { code: string; message: string }) => errors.push(error));
    await bad.emitWithAck('mux:open', { streamId: 'victim' });
    const codeOf = async (event: string, payload: unknown) => ((await bad.timeout(5_000).emitWithAck(event, payload)) as { error?: { code: string } }).error?.code;

    expect(await codeOf('mux:chunks', { streamId: 'victim', seq: 0, data: 42 })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:chunks', { streamId: 'victim', seq: -1, data: ['"x"'] })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:chunks', 'not an object')).toBe('BAD_REQUEST');
    expect(await codeOf('mux:chunks', { streamId: 'victim', seq: 0, data: ['x'.repeat(2_000)] })).toBe('CHUNK_TOO_LARGE');
    expect(await codeOf('mux:chunks', { streamId: 'victim', seq: 0, data: ['é'.repeat(600)] })).toBe('CHUNK_TOO_LARGE');
    expect(await codeOf('mux:chunks', { streamId: 'victim', seq: 5, data: ['"x"'] })).toBe('SEQ_GAP');
    expect(await codeOf('mux:open', { streamId: 'bad id with spaces' })).toBe('INVALID_STREAM_ID');
    expect(await codeOf('mux:open', { streamId: 'x'.repeat(257) })).toBe('INVALID_STREAM_ID');
    expect(await codeOf('mux:chunks', { streamId: 'never-opened', seq: 0, data: ['"x"'] })).toBe('STREAM_NOT_FOUND');
    expect(await codeOf('mux:open', { streamId: 'victim' })).toBe('STREAM_EXISTS');
    expect(await codeOf('mux:open', { streamId: 'victim', resume: true, openId: 'someone-else' })).toBe('STREAM_EXISTS');
    // A resume must carry the openId of the stream it resumes: without one it could take any open stream over.
    expect(await codeOf('mux:open', { streamId: 'victim', resume: true })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:open', { streamId: 'other', openId: 42 })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:open', { streamId: 'other', openId: 'x'.repeat(65) })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:end', { streamId: 'victim', reason: 'bored', lastSeq: 0 })).toBe('BAD_REQUEST');
    expect(await codeOf('mux:end', { streamId: 'victim', reason: 'completed', lastSeq: 3 })).toBe('SEQ_GAP');
    bad.emit('no:such:event', { hello: 1 });
    bad.emit('mux:chunks', { streamId: 'victim', seq: 0, data: null }); // no ack callback: the error comes as an event
    await until(() => errors.length >= 2, 'the two stream:error events');
    expect(errors.map((error) => error.code)).toEqual(['UNKNOWN_EVENT', 'BAD_REQUEST']);
    expect(errors[0]!.message).toContain('no:such:event');

    // The victim stream is not corrupted by any of it: still open and empty, and writable.
    expect(await relay.store.info('victim')).toEqual({ streamId: 'victim', status: 'open', lastSeq: -1 });
    expect(await bad.emitWithAck('mux:chunks', { streamId: 'victim', seq: 0, data: ['"ok"'] })).toEqual({ ok: true, lastSeq: 0 });

    await healthyWrite;
    const result = await healthyRead;
    expect(result.data).toEqual(Array.from({ length: 2_000 }, (_, seq) => chunk(seq)));
    expect(result.end.reason).toBe('completed');
  });

  it('refuses connections with a missing or wrong API key, a bad stream id or an unknown role', async () => {
    const { url } = await startRelay();
    const refusal = async (options: Parameters<typeof connectRaw>[1]) => {
      const error = await connectRaw(url, options).then(
        (socket) => {
          socket.close();
          return undefined;
        },
        (caught: Error & { data?: { code: string; message: string } }) => caught,
      );
      return error?.data;
    };
    const mux = { role: 'producer', version: 'stream-v1', extensions: ['mux'] };
    expect(await refusal({ auth: mux })).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('Authorization: Bearer') });
    expect(await refusal({ auth: mux, apiKey: 'wrong' })).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await refusal({ auth: { role: 'producer', version: 'stream-v1', streamId: 'has space' }, apiKey: API_KEY })).toMatchObject({ code: 'INVALID_STREAM_ID' });
    expect(await refusal({ auth: { role: 'admin' } })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await refusal({ auth: { ...mux, version: 'stream-v9' }, apiKey: API_KEY })).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('refuses readers with an expired, forged, foreign-key or alg:none token, and an out-of-scope subscribe', async () => {
    const { url } = await startRelay({ clockToleranceSeconds: 0 });
    const refusal = (token: unknown) =>
      connectRaw(url, { auth: { role: 'consumer', token } }).then(
        (socket) => {
          socket.close();
          return undefined;
        },
        (caught: Error & { data?: { code: string } }) => caught.data?.code,
      );
    const valid = await mintClientToken({ apiKey: API_KEY, streamIds: ['scoped'] });
    const [header, payload] = valid.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const expired = await oneSecondToken({ apiKey: API_KEY, streamIds: ['scoped'] });
    await expired.expired();
    expect(await refusal(undefined)).toBe('UNAUTHORIZED');
    expect(await refusal('not-a-jwt')).toBe('UNAUTHORIZED');
    expect(await refusal(await mintClientToken({ apiKey: 'another-key', streamIds: ['scoped'] }))).toBe('UNAUTHORIZED');
    expect(await refusal(`${header}.${encode({ ...claims, streams: ['scoped', 'other'] })}.${valid.split('.')[2]}`)).toBe('UNAUTHORIZED');
    expect(await refusal(`${encode({ alg: 'none', typ: 'JWT' })}.${payload}.`)).toBe('UNAUTHORIZED');
    expect(await refusal(expired.token)).toBe('UNAUTHORIZED');

    // A token that expires while connected cannot subscribe any more.
    const shortLived = await oneSecondToken({ apiKey: API_KEY, streamIds: ['scoped'] });
    const connected = track(await connectRaw(url, { auth: { role: 'consumer', token: shortLived.token } }));
    await shortLived.expired();
    expect(await connected.emitWithAck('consumer:subscribe', { streamId: 'scoped' })).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });

    const reader = track(await connectRaw(url, { auth: { role: 'consumer', token: valid } }));
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'someone-else' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'scoped' })).toMatchObject({ ok: false, error: { code: 'STREAM_NOT_FOUND' } });
    expect(await reader.emitWithAck('consumer:subscribe', { streamId: 'scoped', fromSeq: 'zero' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });
});

describe('HTTP API on the same port', () => {
  it('serves /healthz and POST /v1/token', async () => {
    const { url } = await startRelay();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'memory' });
    const response = await fetch(`${url}/v1/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ streamIds: ['via-http'] }),
    });
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const producer = track(await connectMuxProducer(url, API_KEY));
    expect(await produceMux(producer, 'via-http', 10)).toMatchObject({ ok: true });
    const reader = track(await connectRaw(url, { auth: { role: 'consumer', token } }));
    expect((await readToEnd(reader, 'via-http')).data).toHaveLength(10);
  });

  it('exposes Prometheus metrics: chunks, connections by role, errors by code, append latency', async () => {
    const { url } = await startRelay();
    const producer = track(await connectMuxProducer(url, API_KEY));
    expect(await produceMux(producer, 'metered', 10)).toMatchObject({ ok: true });
    await producer.emitWithAck('mux:chunks', { streamId: 'metered', seq: 'x', data: [] });
    track(await connectReader(url, API_KEY, ['metered']));
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/^ss_relay_chunks_received_total 10$/m);
    expect(text).toMatch(/^ss_relay_connections\{role="producer"\} 1$/m);
    expect(text).toMatch(/^ss_relay_connections\{role="consumer"\} 1$/m);
    expect(text).toMatch(/^ss_relay_errors_total\{code="BAD_REQUEST"\} 1$/m);
    expect(text).toMatch(/^ss_relay_streams_ended_total\{reason="completed"\} 1$/m);
    expect(text).toMatch(/^ss_relay_store_append_seconds_count 1$/m);
  });

  it('close() is graceful: stored streams stay intact and readable from a new relay over the same store', async () => {
    const { memoryStore } = await import('../src/index.js');
    const store = memoryStore();
    const first = createRelay({ apiKeys: [API_KEY], store: { ...store, close: async () => {} }, log: () => {} });
    const { url } = await first.listen(0);
    const producer = track(await connectMuxProducer(url, API_KEY));
    await producer.emitWithAck('mux:open', { streamId: 'survives', openId: 'the-producer' });
    await producer.emitWithAck('mux:chunks', { streamId: 'survives', seq: 0, data: ['"a"', '"b"'] });
    await first.close();
    const { url: secondUrl } = await startRelay({ store });
    expect(await store.info('survives')).toEqual({ streamId: 'survives', status: 'open', lastSeq: 1 });
    const again = track(await connectMuxProducer(secondUrl, API_KEY));
    expect(await again.emitWithAck('mux:open', { streamId: 'survives', resume: true, openId: 'the-producer' })).toMatchObject({ ok: true, info: { lastSeq: 1 } });
  });
});
