import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { mintClientToken, verifyClientToken } from '@ss/core';
import type { StreamInfo } from '@ss/core/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApi, type HttpApiOptions } from './http-api.js';
import { silentLogger } from './logger.js';

const NEW_KEY = 'sk_relay_new_0123456789';
const OLD_KEY = 'sk_relay_old_9876543210';

const streams = new Map<string, StreamInfo>([
  ['chat-open', { streamId: 'chat-open', status: 'open', lastSeq: 4 }],
  ['chat-done', { streamId: 'chat-done', status: 'ended', lastSeq: 9, endReason: 'completed' }],
  ['chat-empty', { streamId: 'chat-empty', status: 'open', lastSeq: -1 }],
]);
/** A tiny store: just what the HTTP API reads. */
const store: HttpApiOptions['store'] = { info: async (streamId) => streams.get(streamId) };

const servers: Array<ReturnType<typeof serve>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

/** Serves the API on a real HTTP server on a free port and returns its base URL. */
async function startApi(overrides: Partial<HttpApiOptions> = {}): Promise<string> {
  const app = createHttpApi({ apiKeys: [NEW_KEY, OLD_KEY], store, log: silentLogger, ...overrides });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

function postToken(baseUrl: string, body: unknown, apiKey: string | null = NEW_KEY): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  return fetch(`${baseUrl}/v1/token`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectError(response: Response, status: number, code: string, messagePattern?: RegExp) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  if (messagePattern) expect(body.error.message).toMatch(messagePattern);
  return body;
}

describe('POST /v1/token', () => {
  it('mints a token scoped to the requested streams, signed with the first key', async () => {
    const baseUrl = await startApi();
    const response = await postToken(baseUrl, { streamIds: ['chat-open', 'chat-done'], expiresIn: '5m', cancel: ['chat-open'] });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { token } = (await response.json()) as { token: string };
    const claims = await verifyClientToken(token, { apiKeys: [NEW_KEY] });
    expect(claims.streamIds).toEqual(['chat-open', 'chat-done']);
    expect(claims.cancelStreamIds).toEqual(['chat-open']);
    const lifetime = claims.expiresAt.getTime() / 1000 - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(290);
    expect(lifetime).toBeLessThanOrEqual(300);
  });

  it('defaults to 10 minutes and read-only', async () => {
    const baseUrl = await startApi();
    const { token } = (await (await postToken(baseUrl, { streamIds: ['a'] })).json()) as { token: string };
    const claims = await verifyClientToken(token, { apiKeys: [NEW_KEY] });
    expect(claims.cancelStreamIds).toEqual([]);
    expect(claims.expiresAt.getTime() / 1000 - Date.now() / 1000).toBeGreaterThan(590);
  });

  it('accepts the second key for auth during a rotation, but signs with the first', async () => {
    const baseUrl = await startApi();
    const response = await postToken(baseUrl, { streamIds: ['a'], cancel: true }, OLD_KEY);
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const claims = await verifyClientToken(token, { apiKeys: [NEW_KEY] });
    expect(claims.cancelStreamIds).toEqual(['a']);
    await expect(verifyClientToken(token, { apiKeys: [OLD_KEY] })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('answers 401 for a missing or wrong API key', async () => {
    const baseUrl = await startApi();
    const missing = await postToken(baseUrl, { streamIds: ['a'] }, null);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(missing, 401, 'UNAUTHORIZED', /Missing API key/);
    await expectError(await postToken(baseUrl, { streamIds: ['a'] }, 'sk_wrong'), 401, 'UNAUTHORIZED', /Invalid API key/);
    // A client token is not an API key.
    const clientToken = await mintClientToken({ apiKey: NEW_KEY, streamIds: ['a'] });
    await expectError(await postToken(baseUrl, { streamIds: ['a'] }, clientToken), 401, 'UNAUTHORIZED');
    // Auth is checked before the body is looked at.
    await expectError(await postToken(baseUrl, '{oops', 'sk_wrong'), 401, 'UNAUTHORIZED');
  });

  it('answers 400 with the expected shape for malformed JSON or bodies', async () => {
    const baseUrl = await startApi();
    const shape = /Expected JSON \{ "streamIds": string\[\]/;
    await expectError(await postToken(baseUrl, '{"streamIds": ['), 400, 'BAD_REQUEST', /not valid JSON.*Expected JSON/);
    // An empty body is Streamstraight's SDK asking for an unscoped token: refused only when they are off.
    const strict = await startApi({ unscopedTokens: false });
    await expectError(await postToken(strict, ''), 400, 'BAD_REQUEST', /does not mint unscoped tokens.*Expected JSON|does not mint unscoped tokens.*Send a JSON body/);
    await expectError(await postToken(baseUrl, '["a"]'), 400, 'BAD_REQUEST', shape);
    await expectError(await postToken(baseUrl, {}), 400, 'BAD_REQUEST', /"streamIds" must be an array/);
    await expectError(await postToken(baseUrl, { streamIds: 'a' }), 400, 'BAD_REQUEST', shape);
    await expectError(await postToken(baseUrl, { streamIds: [1] }), 400, 'BAD_REQUEST', shape);
    await expectError(await postToken(baseUrl, { streamIds: ['a'], expiresIn: true }), 400, 'BAD_REQUEST', /"expiresIn"/);
    await expectError(await postToken(baseUrl, { streamIds: ['a'], cancel: 'yes' }), 400, 'BAD_REQUEST', /"cancel"/);
    await expectError(await postToken(baseUrl, { streamIds: [] }), 400, 'BAD_REQUEST', /1-100/);
    await expectError(
      await postToken(baseUrl, { streamIds: Array.from({ length: 101 }, (_, index) => `s${index}`) }),
      400,
      'BAD_REQUEST',
      /1-100/,
    );
    await expectError(await postToken(baseUrl, { streamIds: ['no spaces'] }), 400, 'INVALID_STREAM_ID');
    await expectError(await postToken(baseUrl, { streamIds: ['a'], expiresIn: '2d' }), 400, 'BAD_REQUEST', /24 hours/);
    await expectError(await postToken(baseUrl, { streamIds: ['a'], expiresIn: 'later' }), 400, 'BAD_REQUEST', /expiresIn/);
    await expectError(await postToken(baseUrl, 'x'.repeat(70 * 1024)), 400, 'BAD_REQUEST', /larger than/);
  });
});

describe('GET /v1/streams/:streamId', () => {
  const getInfo = (baseUrl: string, streamId: string, credential?: string) =>
    fetch(`${baseUrl}/v1/streams/${streamId}`, credential === undefined ? {} : { headers: { authorization: `Bearer ${credential}` } });

  it("returns the stream's info with an API key (either key)", async () => {
    const baseUrl = await startApi();
    const open = await getInfo(baseUrl, 'chat-open', NEW_KEY);
    expect(open.status).toBe(200);
    expect(await open.json()).toEqual({ streamId: 'chat-open', status: 'open', lastSeq: 4 });
    const done = await getInfo(baseUrl, 'chat-done', OLD_KEY);
    expect(await done.json()).toEqual({ streamId: 'chat-done', status: 'ended', lastSeq: 9, endReason: 'completed' });
    const empty = await getInfo(baseUrl, 'chat-empty', NEW_KEY);
    expect(await empty.json()).toEqual({ streamId: 'chat-empty', status: 'open', lastSeq: -1 });
  });

  it('accepts a client token only for the streams it covers', async () => {
    const baseUrl = await startApi();
    const token = await mintClientToken({ apiKey: OLD_KEY, streamIds: ['chat-open'] });
    const allowed = await getInfo(baseUrl, 'chat-open', token);
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as StreamInfo).lastSeq).toBe(4);
    await expectError(await getInfo(baseUrl, 'chat-done', token), 403, 'FORBIDDEN', /does not cover stream "chat-done"/);
    // Out-of-scope requests learn nothing about existence either.
    await expectError(await getInfo(baseUrl, 'nope', token), 403, 'FORBIDDEN');
  });

  it('answers 401 without credentials, with a bad token or a token of an unknown key', async () => {
    const baseUrl = await startApi();
    await expectError(await getInfo(baseUrl, 'chat-open'), 401, 'UNAUTHORIZED', /Missing credentials/);
    await expectError(await getInfo(baseUrl, 'chat-open', 'sk_wrong'), 401, 'UNAUTHORIZED', /neither/);
    const foreign = await mintClientToken({ apiKey: 'sk_someone_else', streamIds: ['chat-open'] });
    await expectError(await getInfo(baseUrl, 'chat-open', foreign), 401, 'UNAUTHORIZED', /rotated out/);
    const valid = await mintClientToken({ apiKey: NEW_KEY, streamIds: ['chat-open'] });
    const [header, , signature] = valid.split('.');
    await expectError(await getInfo(baseUrl, 'chat-open', `${header}.e30.${signature}`), 401, 'UNAUTHORIZED', /signature/);
  });

  it('answers 404 STREAM_NOT_FOUND for an unknown stream and 400 for a bad id', async () => {
    const baseUrl = await startApi();
    await expectError(await getInfo(baseUrl, 'missing', NEW_KEY), 404, 'STREAM_NOT_FOUND', /"missing"/);
    await expectError(await getInfo(baseUrl, 'bad%20id', NEW_KEY), 400, 'INVALID_STREAM_ID');
    await expectError(await getInfo(baseUrl, 'x'.repeat(257), NEW_KEY), 400, 'INVALID_STREAM_ID');
  });

  it('hides internal failures behind a 500 INTERNAL', async () => {
    const logged: unknown[] = [];
    const baseUrl = await startApi({
      store: {
        info: async () => {
          throw new Error('connection string redis://secret@host leaked?');
        },
      },
      onInternalError: (error) => logged.push(error),
    });
    const body = await expectError(await getInfo(baseUrl, 'chat-open', NEW_KEY), 500, 'INTERNAL');
    expect(body.error.message).not.toMatch(/secret/);
    expect(logged).toHaveLength(1);
  });
});

describe('GET /healthz and unknown routes', () => {
  it('answers ok with the health facts', async () => {
    const baseUrl = await startApi({ health: async () => ({ store: 'memory', streams: 3 }) });
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', store: 'memory', streams: 3 });
  });

  it('answers ok with no health source', async () => {
    const baseUrl = await startApi();
    const response = await fetch(`${baseUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers 503 when degraded or when the health check throws', async () => {
    const degraded = await startApi({ health: () => ({ status: 'degraded', store: 'redis', detail: 'ECONNREFUSED' }) });
    const response = await fetch(`${degraded}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'degraded', store: 'redis', detail: 'ECONNREFUSED' });

    const throwing = await startApi({
      health: () => {
        throw new Error('boom');
      },
      onInternalError: () => {},
    });
    const failed = await fetch(`${throwing}/healthz`);
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { status: string }).status).toBe('degraded');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const baseUrl = await startApi();
    await expectError(await fetch(`${baseUrl}/v2/whatever`), 404, 'NOT_FOUND', /POST \/v1\/token/);
    await expectError(await fetch(`${baseUrl}/v1/token`), 404, 'NOT_FOUND', /GET \/v1\/token/);
  });

  it('refuses to start without API keys', () => {
    expect(() => createHttpApi({ apiKeys: [], store })).toThrow(/at least one API key/);
  });
});
