// Rate limits and connection hygiene: a burst of bad handshakes gets 429s while a healthy producer
// keeps streaming; silent and half-sent TCP connections, and engine.io sessions that never connect
// to the namespace, are closed at the handshake deadline; one IP holds at most
// maxConnectionsPerIp connections; POST /v1/token is rate limited per API key.
import net from 'node:net';
import { mintClientToken } from '@ss/core';
import type { Socket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import type { RelayOptions } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectRaw, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-hygiene';
const OTHER_KEY = 'test-key-hygiene-other';
const later = useCleanups();
const startRelay = (options: Partial<RelayOptions> = {}) => startTestRelay(later, { apiKeys: [API_KEY, OTHER_KEY], ...options });
const track = <T extends Socket>(socket: T): T => later(socket, close);

async function metric(url: string, limit: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^ss_relay_limit_refusals_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** A raw TCP connection; resolves `closed` when the relay closes it, with what it sent. */
function rawConnection(port: number, send?: string) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let closedAt = 0;
  const closed = new Promise<string>((resolve) => {
    socket.on('data', (data) => (received += data));
    socket.on('error', () => {});
    socket.on('close', () => {
      closedAt = Date.now();
      resolve(received);
    });
  });
  if (send !== undefined) socket.on('connect', () => socket.write(send));
  later(socket, (value) => value.destroy());
  return { socket, closed, closedAt: () => closedAt };
}

describe('rate limits', () => {
  it('a burst of wrong-key handshakes gets 429 RATE_LIMITED with retryInMs, while a healthy producer streams on', async () => {
    const { url } = await startRelay({ limits: { maxFailedHandshakesPerIp: 10, failedHandshakeWindowMs: 1_500 } });
    const healthy = track(await connectMuxProducer(url, API_KEY));
    await healthy.emitWithAck('mux:open', { streamId: 'healthy' });
    const reader = track(await connectRaw(url, { auth: { role: 'consumer', token: await mintClientToken({ apiKey: API_KEY, streamIds: ['healthy'] }) } }));
    const reading = readToEnd(reader, 'healthy');
    let writing = true;
    const writer = (async () => {
      let seq = 0;
      while (writing) {
        const ack = await healthy.timeout(5_000).emitWithAck('mux:chunks', { streamId: 'healthy', seq, data: [`"${seq}"`] });
        expect(ack).toMatchObject({ ok: true });
        seq++;
      }
      await healthy.emitWithAck('mux:end', { streamId: 'healthy', reason: 'completed', lastSeq: seq - 1 });
      return seq;
    })();

    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      const error: Error & { data?: { code?: string } } = await connectMuxProducer(url, 'wrong-key').then(
        (socket) => {
          socket.close();
          return new Error('connected with a wrong key');
        },
        (refused: Error & { data?: { code?: string } }) => refused,
      );
      outcomes.push(error.data?.code ?? error.message);
    }
    // The first ten are refused by the handshake itself; then the address is blocked before any work.
    expect(outcomes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHORIZED'));
    expect(outcomes.slice(10).every((outcome) => outcome !== 'UNAUTHORIZED')).toBe(true);
    const blocked = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await blocked.json()) as { error: { code: string; retryInMs: number } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.retryInMs).toBeGreaterThan(0);
    expect(body.error.retryInMs).toBeLessThanOrEqual(1_500);
    expect(await metric(url, 'maxFailedHandshakesPerIp')).toBeGreaterThanOrEqual(21);

    // Other HTTP routes are not blocked, and after the window the address may try again.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, body.error.retryInMs + 50));
    track(await connectMuxProducer(url, API_KEY));

    writing = false;
    const written = await writer;
    expect(written).toBeGreaterThan(0);
    expect((await reading).data).toHaveLength(written);
  });

  it('a wrong API key that keeps failing is refused unchecked (RATE_LIMITED with retryInMs); a valid key and another wrong one are not', async () => {
    const { url } = await startRelay({ limits: { maxFailedHandshakesPerIp: 0, maxFailedHandshakesPerKey: 5, failedHandshakeWindowMs: 5_000 } });
    const attempt = (key: string) =>
      connectMuxProducer(url, key).then(
        (socket) => {
          socket.close();
          return { code: 'CONNECTED' } as { code?: string; retryInMs?: number };
        },
        (refused: Error & { data?: { code?: string; retryInMs?: number } }) => refused.data ?? {},
      );
    const codes = [];
    for (let index = 0; index < 7; index++) codes.push(await attempt('stolen-or-guessed'));
    expect(codes.slice(0, 5).map((answer) => answer.code)).toEqual(Array(5).fill('UNAUTHORIZED'));
    expect(codes[5]).toMatchObject({ code: 'RATE_LIMITED', retryInMs: expect.any(Number) });
    expect(codes[6]!.retryInMs).toBeLessThanOrEqual(5_000);
    expect((await attempt('another-wrong-key')).code).toBe('UNAUTHORIZED');
    expect((await attempt(API_KEY)).code).toBe('CONNECTED');
    // A reader's expired or forged token is a credential too.
    const forged = `${(await mintClientToken({ apiKey: 'not-a-relay-key', streamIds: ['s'] }))}`;
    const readerCodes = [];
    for (let index = 0; index < 6; index++) {
      readerCodes.push(
        await connectRaw(url, { auth: { role: 'consumer', token: forged } }).then(
          () => 'CONNECTED',
          (refused: Error & { data?: { code?: string } }) => refused.data?.code,
        ),
      );
    }
    expect(readerCodes).toEqual([...Array(5).fill('UNAUTHORIZED'), 'RATE_LIMITED']);
    expect(await metric(url, 'maxFailedHandshakesPerKey')).toBe(3);
  });

  it('POST /v1/token per API key: 429 RATE_LIMITED with Retry-After past the rate; another key is not affected', async () => {
    const { url } = await startRelay({ limits: { maxTokenRequestsPerKeyPerSecond: 5 } });
    const request = (key: string) =>
      fetch(`${url}/v1/token`, { method: 'POST', headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ streamIds: ['s'] }) });
    const statuses = [];
    for (let index = 0; index < 8; index++) statuses.push((await request(API_KEY)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const refused = await request(API_KEY);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ error: { code: 'RATE_LIMITED', retryInMs: expect.any(Number) } });
    expect((await request(OTHER_KEY)).status).toBe(200);
  });
});

describe('connection hygiene', () => {
  it('silent and half-sent TCP connections, and engine.io sessions that never connect, are closed at the handshake deadline', async () => {
    const { relay, port, url } = await startRelay({ limits: { handshakeTimeoutMs: 400 } });
    const started = Date.now();
    const silent = Array.from({ length: 20 }, () => rawConnection(port));
    const halfSent = rawConnection(port, 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
    // An engine.io session (open packet received) that never sends the Socket.IO connect.
    const open = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    expect(open.status).toBe(200);
    const { sid } = JSON.parse((await open.text()).slice(1)) as { sid: string };
    expect(relay.io.engine.clientsCount).toBe(1);

    await Promise.all([...silent.map((connection) => connection.closed), halfSent.closed]);
    const closedAfter = Math.max(...silent.map((connection) => connection.closedAt()), halfSent.closedAt()) - started;
    expect(closedAfter).toBeGreaterThanOrEqual(350);
    expect(closedAfter).toBeLessThan(5_000);
    // Socket.IO closed the session at the deadline: its next poll gets engine.io's close packet ("1").
    const poll = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    expect((await poll.text()).split('\x1e')).toContain('1');
    await until(() => relay.io.engine.clientsCount === 0, 'the engine.io session without a Socket.IO connect to be gone', 5_000);
    expect(await metric(url, 'handshakeTimeoutMs')).toBe(21);

    // A real client within the deadline is unaffected, and stays connected past it.
    const producer = track(await connectMuxProducer(url, API_KEY));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(producer.connected).toBe(true);
    expect(await producer.emitWithAck('mux:open', { streamId: 'after' })).toMatchObject({ ok: true });
  });

  it('one IP holds at most maxConnectionsPerIp connections: the next gets HTTP 429 and is closed', async () => {
    const { port, url } = await startRelay({ limits: { maxConnectionsPerIp: 5 } });
    const held = Array.from({ length: 5 }, () => rawConnection(port));
    await until(async () => {
      const extra = rawConnection(port);
      const answer = await extra.closed;
      return answer.startsWith('HTTP/1.1 429');
    }, 'a sixth connection to be refused with 429');
    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.closed));
    await until(async () => (await fetch(`${url}/healthz`).then((response) => response.status, () => 0)) === 200, 'room for a connection again');
    expect(await metric(url, 'maxConnectionsPerIp')).toBeGreaterThanOrEqual(1);
  });
});
