// Streamstraight's own Python SDK (`streamstraight-server` 0.2.x) against this relay, reproduced
// request for request from a raw client: its token request (`fetch_client_token`: POST /v1/token,
// bearer key, NO body), its producer handshake (python-socketio: long-polling first, then the
// WebSocket upgrade; `auth` = {role, streamId, version, sdkVersion}, the key in a header), its
// `producer:chunk` frames sent without waiting for acks, its `producer:end` with an ack (5 s), and
// how it reads a refused handshake (the CONNECT_ERROR packet's `message`) and a `stream:error`.
import { request } from 'node:http';
import { verifyClientToken } from '@ss/core';
import { io } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { UNSCOPED_TOKEN_EXPIRES_IN } from '../src/http-api.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectReader, connectRaw, nextEvent, readToEnd } from './support/raw-clients.js';
import { startTestRelay } from './support/test-relay.js';

const API_KEY = 'sk_live_python_sdk';
const later = useCleanups();

/** `httpx.AsyncClient().post(f"{base_url}/v1/token", headers={"Authorization": …})`: the bytes httpx sends. */
function pythonTokenRequest(baseUrl: string, apiKey: string): Promise<{ status: number; body: string }> {
  const url = new URL('/v1/token', baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        headers: {
          Host: url.host,
          Accept: '*/*',
          'Accept-Encoding': 'gzip, deflate',
          Connection: 'keep-alive',
          'User-Agent': 'python-httpx/0.28.1',
          Authorization: `Bearer ${apiKey}`,
          'Content-Length': '0',
        },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (part) => (body += part));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** What `fetch_client_token` does with the answer: the token, or StreamstraightTokenError's message. */
async function fetchClientTokenAsPython(baseUrl: string, apiKey: string): Promise<string> {
  const { status, body } = await pythonTokenRequest(baseUrl, apiKey);
  if (status < 200 || status >= 300) throw new Error(`token endpoint returned ${status}`);
  const token = (JSON.parse(body) as { token?: unknown }).token;
  if (typeof token !== 'string' || token === '') throw new Error('token response missing token field');
  return token;
}

/** The Socket.IO handshake of python-socketio, over raw Engine.IO long-polling (its default first transport). */
async function pollingHandshake(baseUrl: string, apiKey: string, auth: Record<string, unknown>): Promise<string> {
  const headers = { Authorization: `Bearer ${apiKey}` };
  const open = await fetch(`${baseUrl}/socket.io/?transport=polling&EIO=4`, { headers });
  const openPacket = await open.text(); // 0{"sid":…}
  expect(openPacket.startsWith('0{')).toBe(true);
  const { sid } = JSON.parse(openPacket.slice(1)) as { sid: string };
  const sent = await fetch(`${baseUrl}/socket.io/?transport=polling&EIO=4&sid=${sid}`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'text/plain;charset=UTF-8' },
    body: `40${JSON.stringify(auth)}`,
  });
  expect(sent.status).toBe(200);
  const answer = await fetch(`${baseUrl}/socket.io/?transport=polling&EIO=4&sid=${sid}`, { headers });
  return answer.text();
}

const pythonAuth = (streamId: string) => ({ role: 'producer', streamId, version: 'stream-v1', sdkVersion: '0.2.0' });

describe("Streamstraight's Python SDK, request for request", () => {
  it('fetch_client_token: POST /v1/token with no body gets a read token for every stream, short-lived', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const token = await fetchClientTokenAsPython(url, API_KEY);
    const claims = await verifyClientToken(token, { apiKeys: [API_KEY] });
    expect(claims.allStreams).toBe(true);
    expect(claims.cancelStreamIds).toEqual([]);
    const lifetimeMs = claims.expiresAt.getTime() - Date.now();
    expect(UNSCOPED_TOKEN_EXPIRES_IN).toBe('5m');
    expect(lifetimeMs).toBeGreaterThan(4 * 60_000);
    expect(lifetimeMs).toBeLessThanOrEqual(5 * 60_000);

    // It reads any stream (here two, written by a producer), and cancels none.
    const producer = later(await connectRaw(url, { apiKey: API_KEY, auth: { role: 'producer', extensions: ['mux'] } }), close);
    for (const streamId of ['chat-a', 'chat-b']) {
      expect(await producer.emitWithAck('mux:open', { streamId })).toMatchObject({ ok: true });
      expect(await producer.emitWithAck('mux:chunks', { streamId, seq: 0, data: [`"${streamId}"`] })).toMatchObject({ ok: true });
      expect(await producer.emitWithAck('mux:end', { streamId, reason: 'completed', lastSeq: 0 })).toMatchObject({ ok: true });
    }
    const reader = later(await connectRaw(url, { auth: { role: 'consumer', token } }), close);
    expect((await readToEnd(reader, 'chat-a')).data).toEqual(['"chat-a"']);
    expect((await readToEnd(reader, 'chat-b')).data).toEqual(['"chat-b"']);
    expect(await reader.emitWithAck('consumer:cancel', { streamId: 'chat-a' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    // The stream status route accepts it too.
    expect((await fetch(`${url}/v1/streams/chat-b`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
  });

  it('fetch_client_token against a relay with unscoped tokens off: 400, which the SDK reports as such', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], unscopedTokens: false });
    const { status, body } = await pythonTokenRequest(url, API_KEY);
    expect(status).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('does not mint unscoped tokens') } });
    await expect(fetchClientTokenAsPython(url, API_KEY)).rejects.toThrow('token endpoint returned 400');
    // A wrong key is still a 401.
    expect((await pythonTokenRequest(url, 'sk_wrong')).status).toBe(401);
  });

  it('streams chunks and ends like the SDK: polling then WebSocket, chunks without waiting, end with an ack', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const reader = later(await connectReader(url, API_KEY, ['py-stream']), close);
    const producer = io(url, {
      transports: ['polling', 'websocket'], // python-socketio's default order
      reconnection: false,
      forceNew: true,
      auth: pythonAuth('py-stream'),
      extraHeaders: { Authorization: `Bearer ${API_KEY}` },
      autoConnect: false,
    });
    later(producer, close);
    const info = nextEvent<{ streamId: string; deploymentId: string; ended: boolean }>(producer, 'stream:info');
    const acks: Array<{ seq: number; redisId: string }> = [];
    producer.on('producer:ack', (ack) => acks.push(ack));
    producer.connect();
    expect(await info).toMatchObject({ streamId: 'py-stream', ended: false, deploymentId: expect.any(String) });

    const reading = readToEnd(reader, 'py-stream');
    // json.dumps(chunk, separators=(",", ":")) of each chunk, sent back to back.
    const chunks = Array.from({ length: 50 }, (_, index) => JSON.stringify({ delta: `token ${index} ` }));
    for (const [seq, data] of chunks.entries()) producer.emit('producer:chunk', { seq, data });
    const endAck = await producer.timeout(5000).emitWithAck('producer:end', { reason: 'completed', lastSeq: chunks.length - 1 });
    expect(endAck).toEqual({ success: true, endRedisId: expect.any(String) });
    expect(acks.map((ack) => ack.seq)).toEqual(chunks.map((_, seq) => seq));
    for (const ack of acks) expect(typeof ack.redisId).toBe('string');
    const read = await reading;
    expect(read.data).toEqual(chunks);
    expect(read.end).toEqual({ reason: 'completed', lastSeq: chunks.length - 1 });
  });

  it('a refused handshake: the CONNECT_ERROR packet has a plain sentence as message and data {code, message}', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    // What python-socketio receives and hands to the SDK's connect_error handler, which prints str(error).
    const packet = await pollingHandshake(url, 'sk_wrong', pythonAuth('refused'));
    expect(packet.startsWith('44')).toBe(true);
    const payload = JSON.parse(packet.slice(2)) as { message: string; data: { code: string; message: string } };
    expect(payload).toEqual({
      message: 'Wrong API key. Use a key the relay was started with.',
      data: { code: 'UNAUTHORIZED', message: 'Wrong API key. Use a key the relay was started with.' },
    });
    expect(payload.message.startsWith('{')).toBe(false);
    // The same through a Socket.IO client: err.message is the sentence, err.data the typed error.
    const refused = await connectRaw(url, { apiKey: 'sk_wrong', auth: pythonAuth('refused') }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ message: 'Wrong API key. Use a key the relay was started with.', data: { code: 'UNAUTHORIZED' } });

    // And a right key: the CONNECT packet with a sid.
    const accepted = await pollingHandshake(url, API_KEY, pythonAuth('accepted'));
    expect(accepted).toMatch(/^40\{"sid":"[^"]+"\}/);
  });

  it('stream:error carries a plain message the SDK raises (a stream that exists, a chunk too large)', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], maxChunkBytes: 100 });
    const connect = async (streamId: string) => {
      const socket = io(url, {
        transports: ['polling', 'websocket'],
        reconnection: false,
        forceNew: true,
        auth: pythonAuth(streamId),
        extraHeaders: { Authorization: `Bearer ${API_KEY}` },
      });
      later(socket, close);
      return socket;
    };
    const producer = await connect('py-limits');
    await nextEvent(producer, 'stream:info');
    const tooLarge = nextEvent<{ message: string; code: string }>(producer, 'stream:error');
    producer.emit('producer:chunk', { seq: 0, data: 'x'.repeat(500) });
    const error = await tooLarge;
    expect(error.code).toBe('CHUNK_TOO_LARGE');
    expect(error.message).toMatch(/^A chunk of 500 bytes is over the relay's limit of 100 bytes/);
  });
});
