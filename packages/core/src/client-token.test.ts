import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ALL_STREAMS,
  CLIENT_TOKEN_AUDIENCE,
  CLIENT_TOKEN_ISSUER,
  type ClientTokenClaims,
  canCancelStream,
  canReadStream,
  clientTokenKeyId,
  fetchClientToken,
  MAX_CLIENT_TOKEN_LIFETIME_SECONDS,
  mintClientToken,
  verifyClientToken,
} from './client-token.js';
import { StreamstraightError } from './errors.js';

const API_KEY = 'sk_test_primary_0123456789';
const OTHER_KEY = 'sk_test_secondary_abcdef';

// The derivation is part of the contract between an app and a relay: pin it here.
const secretOf = (apiKey: string) => new Uint8Array(createHmac('sha256', apiKey).update('streamstraight client token secret v1').digest());
const kidOf = (apiKey: string) =>
  createHash('sha256').update(`streamstraight client token key id v1:${apiKey}`).digest('hex').slice(0, 16);
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function expectUnauthorized(promise: Promise<unknown>, messagePattern?: RegExp): Promise<StreamstraightError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (reason: unknown) => reason,
  );
  expect(StreamstraightError.isInstance(error)).toBe(true);
  const streamstraightError = error as StreamstraightError;
  expect(streamstraightError.code).toBe('UNAUTHORIZED');
  expect(streamstraightError.status).toBe(401);
  if (messagePattern) expect(streamstraightError.message).toMatch(messagePattern);
  return streamstraightError;
}

/** Signs arbitrary claims with the secret derived from `apiKey`, like a (mis)behaving minter would. */
function handMade(apiKey: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: kidOf(apiKey), ...header }).sign(secretOf(apiKey));
}

describe('mintClientToken + verifyClientToken', () => {
  it('round-trips the scope, expiry, key id and subject', async () => {
    const before = nowSeconds();
    const token = await mintClientToken({
      apiKey: API_KEY,
      streamIds: ['chat-1', 'chat-2'],
      cancel: ['chat-2'],
      expiresIn: '2h',
      subject: 'user-7',
    });
    const claims = await verifyClientToken(token, { apiKeys: [API_KEY] });
    expect(claims.streamIds).toEqual(['chat-1', 'chat-2']);
    expect(claims.cancelStreamIds).toEqual(['chat-2']);
    expect(claims.subject).toBe('user-7');
    expect(claims.keyId).toBe(kidOf(API_KEY));
    expect(claims.keyId).toBe(await clientTokenKeyId(API_KEY));
    const expiresAtSeconds = claims.expiresAt.getTime() / 1000;
    expect(expiresAtSeconds).toBeGreaterThanOrEqual(before + 7200);
    expect(expiresAtSeconds).toBeLessThanOrEqual(nowSeconds() + 7200);
  });

  it('writes the documented header and claims, and never the raw key', async () => {
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['a'], cancel: true });
    const [headerPart, payloadPart] = token.split('.') as [string, string];
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(headerPart)));
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(payloadPart)));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: kidOf(API_KEY) });
    expect(payload).toMatchObject({ aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], cancel: ['a'] });
    expect(payload.exp - payload.iat).toBe(600); // default '10m'
    expect(payload.sub).toBeUndefined();
    expect(token).not.toContain(API_KEY);
    // Signed with the derived secret, not with the key itself.
    const withRawKey = await new SignJWT(payload).setProtectedHeader(header).sign(new TextEncoder().encode(API_KEY));
    expect(withRawKey).not.toBe(token);
  });

  it('accepts expiresIn in seconds and read-only by default', async () => {
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['a'], expiresIn: 90 });
    const claims = await verifyClientToken(token, { apiKeys: [API_KEY] });
    expect(claims.cancelStreamIds).toEqual([]);
    expect(Math.round(claims.expiresAt.getTime() / 1000 - nowSeconds())).toBeGreaterThanOrEqual(89);
  });

  it('refuses an expired token, saying to fetch a new one', async () => {
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['a'], expiresIn: 30 });
    // Within the clock tolerance it still works…
    await verifyClientToken(token, { apiKeys: [API_KEY], now: new Date(Date.now() + 33_000) });
    // …beyond it, it does not.
    await expectUnauthorized(
      verifyClientToken(token, { apiKeys: [API_KEY], now: new Date(Date.now() + 40_000) }),
      /expired.*new client token/i,
    );
    await expectUnauthorized(
      verifyClientToken(token, { apiKeys: [API_KEY], now: new Date(Date.now() + 31_000), clockToleranceSeconds: 0 }),
      /expired/,
    );
  });

  it('refuses a token whose exp is in the past at the real clock', async () => {
    const iat = nowSeconds() - 120;
    const token = await handMade(API_KEY, {
      aud: CLIENT_TOKEN_AUDIENCE,
      iss: CLIENT_TOKEN_ISSUER,
      streams: ['a'],
      iat,
      exp: iat + 60,
    });
    await expectUnauthorized(verifyClientToken(token, { apiKeys: [API_KEY] }), /expired/);
  });

  it('refuses a token minted from another key as signed with an unknown key', async () => {
    const token = await mintClientToken({ apiKey: OTHER_KEY, streamIds: ['a'] });
    await expectUnauthorized(verifyClientToken(token, { apiKeys: [API_KEY] }), /rotated out/);
  });

  it('accepts tokens of every configured key during a rotation, and refuses a removed key', async () => {
    const oldToken = await mintClientToken({ apiKey: OTHER_KEY, streamIds: ['a'] });
    const newToken = await mintClientToken({ apiKey: API_KEY, streamIds: ['b'] });
    const during = [API_KEY, OTHER_KEY];
    expect((await verifyClientToken(oldToken, { apiKeys: during })).streamIds).toEqual(['a']);
    expect((await verifyClientToken(newToken, { apiKeys: during })).streamIds).toEqual(['b']);
    expect((await verifyClientToken(oldToken, { apiKeys: during })).keyId).toBe(kidOf(OTHER_KEY));
    // The old key is removed: its tokens stop working, the new one's keep working.
    await expectUnauthorized(verifyClientToken(oldToken, { apiKeys: [API_KEY] }), /rotated out/);
    await verifyClientToken(newToken, { apiKeys: [API_KEY] });
  });

  it('refuses a forged signature and a tampered payload', async () => {
    const token = await mintClientToken({ apiKey: API_KEY, streamIds: ['a'] });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forgedSignature = `${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await expectUnauthorized(verifyClientToken(`${header}.${payload}.${forgedSignature}`, { apiKeys: [API_KEY] }), /signature/);

    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    const widened = base64url.encode(JSON.stringify({ ...claims, streams: ['a', 'someone-elses-stream'] }));
    await expectUnauthorized(verifyClientToken(`${header}.${widened}.${signature}`, { apiKeys: [API_KEY] }), /signature/);

    // Same kid, but signed with a secret an attacker guessed (the raw key).
    const withRawKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: kidOf(API_KEY) })
      .sign(new TextEncoder().encode(API_KEY));
    await expectUnauthorized(verifyClientToken(withRawKey, { apiKeys: [API_KEY] }), /signature/);
  });

  it('refuses an unsigned alg:none token', async () => {
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const iat = nowSeconds();
    const claims = { aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], iat, exp: iat + 60 };
    for (const header of [{ alg: 'none' }, { alg: 'none', kid: kidOf(API_KEY) }, { alg: 'None', kid: kidOf(API_KEY) }]) {
      const token = `${encode(header)}.${encode(claims)}.`;
      await expectUnauthorized(verifyClientToken(token, { apiKeys: [API_KEY] }), /only HS256/);
    }
  });

  it('refuses other algorithms (HS512 with the right secret, RS256)', async () => {
    const iat = nowSeconds();
    const claims = { aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], iat, exp: iat + 60 };
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS512', kid: kidOf(API_KEY) }).sign(secretOf(API_KEY));
    await expectUnauthorized(verifyClientToken(hs512, { apiKeys: [API_KEY] }), /only HS256/);
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    const rs256 = `${encode({ alg: 'RS256', kid: kidOf(API_KEY) })}.${encode(claims)}.c2lnbmF0dXJl`;
    await expectUnauthorized(verifyClientToken(rs256, { apiKeys: [API_KEY] }), /only HS256/);
  });

  it('refuses a token without exp', async () => {
    const token = await handMade(API_KEY, { aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], iat: nowSeconds() });
    await expectUnauthorized(verifyClientToken(token, { apiKeys: [API_KEY] }), /"exp"/);
  });

  it('refuses a wrong audience or issuer', async () => {
    const iat = nowSeconds();
    const base = { aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], iat, exp: iat + 60 };
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, aud: 'streamstraight:producer' }), { apiKeys: [API_KEY] }), /"aud"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, aud: undefined }), { apiKeys: [API_KEY] }), /"aud"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, iss: 'someone' }), { apiKeys: [API_KEY] }), /"iss"/);
  });

  it('refuses malformed scope claims, a missing kid and garbage', async () => {
    const iat = nowSeconds();
    const base = { aud: CLIENT_TOKEN_AUDIENCE, iss: CLIENT_TOKEN_ISSUER, streams: ['a'], iat, exp: iat + 60 };
    const apiKeys = [API_KEY];
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, streams: [] }), { apiKeys }), /"streams"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, streams: 'a' }), { apiKeys }), /"streams"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, streams: ['bad id'] }), { apiKeys }), /"streams"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, cancel: true }), { apiKeys }), /"cancel"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, sub: 42 }), { apiKeys }), /"sub"/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, { ...base, iat: iat + 3600 }), { apiKeys }), /future/);
    await expectUnauthorized(verifyClientToken(await handMade(API_KEY, base, { kid: undefined }), { apiKeys }), /"kid"/);
    await expectUnauthorized(verifyClientToken('not-a-jwt', { apiKeys }), /well-formed/);
    await expectUnauthorized(verifyClientToken('', { apiKeys }), /No client token/);
    await expectUnauthorized(verifyClientToken(await mintClientToken({ apiKey: API_KEY, streamIds: ['a'] }), { apiKeys: [] }), /rotated out/);
  });

  it('caps the lifetime at 24 hours on both sides', async () => {
    expect(MAX_CLIENT_TOKEN_LIFETIME_SECONDS).toBe(86_400);
    const exactlyADay = await mintClientToken({ apiKey: API_KEY, streamIds: ['a'], expiresIn: '24h' });
    await verifyClientToken(exactlyADay, { apiKeys: [API_KEY] });
    for (const expiresIn of ['25h', '2d', 86_401, '1y']) {
      await expect(mintClientToken({ apiKey: API_KEY, streamIds: ['a'], expiresIn })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringMatching(/at most 24 hours/),
      });
    }
    const iat = nowSeconds();
    const tooLong = await handMade(API_KEY, {
      aud: CLIENT_TOKEN_AUDIENCE,
      iss: CLIENT_TOKEN_ISSUER,
      streams: ['a'],
      iat,
      exp: iat + MAX_CLIENT_TOKEN_LIFETIME_SECONDS + 1,
    });
    await expectUnauthorized(verifyClientToken(tooLong, { apiKeys: [API_KEY] }), /longer than 24 hours/);
  });

  it('validates its input when minting', async () => {
    const bad = (options: Partial<Parameters<typeof mintClientToken>[0]>) =>
      mintClientToken({ apiKey: API_KEY, streamIds: ['a'], ...options });
    await expect(bad({ apiKey: '' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(bad({ streamIds: [] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(bad({ streamIds: Array.from({ length: 101 }, (_, index) => `s${index}`) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(bad({ streamIds: ['has space'] })).rejects.toMatchObject({ code: 'INVALID_STREAM_ID' });
    await expect(bad({ cancel: ['ok', 'no/slash'] })).rejects.toMatchObject({ code: 'INVALID_STREAM_ID' });
    for (const expiresIn of [0, -5, '', 'soon', '10 minutes ago', '-10m', Number.NaN]) {
      await expect(bad({ expiresIn })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    const hundred = Array.from({ length: 100 }, (_, index) => `s${index}`);
    await verifyClientToken(await bad({ streamIds: hundred, expiresIn: '1 hour' }), { apiKeys: [API_KEY] });
  });
});

describe('unscoped tokens (ALL_STREAMS)', () => {
  it('read every stream, cancel none, and cannot be minted with a cancel scope', async () => {
    const token = await mintClientToken({ apiKey: 'unscoped-key', streamIds: ALL_STREAMS, expiresIn: '5m' });
    const claims = await verifyClientToken(token, { apiKeys: ['unscoped-key'] });
    expect(claims).toMatchObject({ allStreams: true, streamIds: [], cancelStreamIds: [] });
    expect(canReadStream(claims, 'any-stream')).toBe(true);
    expect(canCancelStream(claims, 'any-stream')).toBe(false);
    await expect(mintClientToken({ apiKey: 'unscoped-key', streamIds: ALL_STREAMS, cancel: true })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // A scoped token is not unscoped.
    const scoped = await verifyClientToken(await mintClientToken({ apiKey: 'unscoped-key', streamIds: ['a'] }), { apiKeys: ['unscoped-key'] });
    expect(scoped.allStreams).toBeUndefined();
    expect(canReadStream(scoped, 'b')).toBe(false);
  });
});

describe('canReadStream / canCancelStream', () => {
  it('grants exactly the listed streams', async () => {
    const claims: ClientTokenClaims = await verifyClientToken(
      await mintClientToken({ apiKey: API_KEY, streamIds: ['a', 'b'], cancel: ['b'] }),
      { apiKeys: [API_KEY] },
    );
    expect(canReadStream(claims, 'a')).toBe(true);
    expect(canReadStream(claims, 'b')).toBe(true);
    expect(canReadStream(claims, 'c')).toBe(false);
    expect(canReadStream(claims, 'A')).toBe(false);
    expect(canCancelStream(claims, 'a')).toBe(false);
    expect(canCancelStream(claims, 'b')).toBe(true);
    expect(canCancelStream(claims, 'c')).toBe(false);
  });

  it('cancel: true covers the same streams as read', async () => {
    const claims = await verifyClientToken(await mintClientToken({ apiKey: API_KEY, streamIds: ['a', 'b'], cancel: true }), {
      apiKeys: [API_KEY],
    });
    expect(canCancelStream(claims, 'a') && canCancelStream(claims, 'b')).toBe(true);
  });
});

describe('fetchClientToken', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A real HTTP server that records the request and answers with `answer`. */
  async function relayStub(answer: (body: unknown, authorization: string | undefined) => { status: number; body: string }) {
    const seen: { url?: string; method?: string; body?: unknown } = {};
    server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      request.on('end', () => {
        seen.url = request.url;
        seen.method = request.method;
        seen.body = JSON.parse(text);
        const { status, body } = answer(seen.body, request.headers.authorization);
        response.writeHead(status, { 'content-type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}`, seen };
  }

  it('posts the scope with the API key and returns the token', async () => {
    const { baseUrl, seen } = await relayStub((_body, authorization) =>
      authorization === `Bearer ${API_KEY}` ? { status: 200, body: '{"token":"t0k3n"}' } : { status: 401, body: '{}' },
    );
    const token = await fetchClientToken({ apiKey: API_KEY, baseUrl: `${baseUrl}/`, streamIds: ['a'], cancel: true, expiresIn: 60 });
    expect(token).toBe('t0k3n');
    expect(seen).toEqual({ url: '/v1/token', method: 'POST', body: { streamIds: ['a'], expiresIn: 60, cancel: true } });
  });

  it('uses STREAMSTRAIGHT_API_BASE_URL when no baseUrl is given', async () => {
    const { baseUrl, seen } = await relayStub(() => ({ status: 200, body: '{"token":"x"}' }));
    const previous = process.env.STREAMSTRAIGHT_API_BASE_URL;
    process.env.STREAMSTRAIGHT_API_BASE_URL = baseUrl;
    try {
      expect(await fetchClientToken({ apiKey: API_KEY, streamIds: ['a'] })).toBe('x');
      expect(seen.body).toEqual({ streamIds: ['a'], expiresIn: '10m', cancel: false });
    } finally {
      if (previous === undefined) delete process.env.STREAMSTRAIGHT_API_BASE_URL;
      else process.env.STREAMSTRAIGHT_API_BASE_URL = previous;
    }
  });

  it("throws the relay's error", async () => {
    const { baseUrl } = await relayStub(() => ({
      status: 401,
      body: JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'Wrong API key.' } }),
    }));
    await expect(fetchClientToken({ apiKey: 'nope', baseUrl, streamIds: ['a'] })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'Wrong API key.',
    });
  });

  it('throws RELAY_UNAVAILABLE with the cause when the relay cannot be reached', async () => {
    const { baseUrl } = await relayStub(() => ({ status: 200, body: '{}' }));
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const error = await fetchClientToken({ apiKey: API_KEY, baseUrl, streamIds: ['a'] }).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect((error as Error).cause).toBeDefined();
  });

  it('uses an injected fetch and validates stream ids before calling', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response('{"token":"injected"}', { status: 200 });
    };
    expect(await fetchClientToken({ apiKey: API_KEY, baseUrl: 'http://relay.test', streamIds: ['a'], fetch: fakeFetch })).toBe('injected');
    expect(calls).toEqual(['http://relay.test/v1/token']);
    await expect(fetchClientToken({ apiKey: API_KEY, baseUrl: 'http://relay.test', streamIds: ['bad id'], fetch: fakeFetch })).rejects.toMatchObject({
      code: 'INVALID_STREAM_ID',
    });
    expect(calls).toHaveLength(1);
  });
});
