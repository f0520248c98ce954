import { describe, expect, it, vi } from 'vitest';
import { canReadStream, verifyClientToken } from './client-token.js';
import { StreamstraightError } from './errors.js';
import { createTokenHandler } from './token-handler.js';

const apiKey = 'token-handler-key';
const post = (body: string) => new Request('http://app.test/api/token', { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('createTokenHandler', () => {
  const handle = createTokenHandler({ apiKey, authorize: (_request, streamId) => streamId.startsWith('mine-') });

  it('answers a token that reads exactly the requested streams', async () => {
    const response = await handle(post(JSON.stringify({ streamIds: ['mine-1', 'mine-2', 'mine-1'] })));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { token } = (await response.json()) as { token: string };
    const claims = await verifyClientToken(token, { apiKeys: [apiKey] });
    expect(claims.streamIds).toEqual(['mine-1', 'mine-2']);
    expect(claims.cancelStreamIds).toEqual([]);
    expect(canReadStream(claims, 'mine-3')).toBe(false);
  });

  it('accepts { streamId }, and grants cancel and the lifetime from the options', async () => {
    const withCancel = createTokenHandler({ apiKey, authorize: () => true, cancel: true, expiresIn: 60 });
    const { token } = (await (await withCancel(post('{"streamId":"one"}'))).json()) as { token: string };
    const claims = await verifyClientToken(token, { apiKeys: [apiKey] });
    expect(claims).toMatchObject({ streamIds: ['one'], cancelStreamIds: ['one'] });
    expect(claims.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(61_000);
  });

  it('answers 403 when authorize refuses any of the ids', async () => {
    const response = await handle(post(JSON.stringify({ streamIds: ['mine-1', 'theirs'] })));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'Not allowed to read stream theirs.' } });
  });

  it.each([
    ['not JSON', 'streamIds please', 'BAD_REQUEST', /not JSON/],
    ['empty', '', 'BAD_REQUEST', /empty/],
    ['an array', '["a"]', 'BAD_REQUEST', /not a JSON object/],
    ['no ids', '{}', 'BAD_REQUEST', /non-empty array/],
    ['an empty list', '{"streamIds":[]}', 'BAD_REQUEST', /non-empty array/],
    ['a string list', '{"streamIds":"a"}', 'BAD_REQUEST', /non-empty array/],
    ['a bad id', '{"streamIds":["bad id"]}', 'INVALID_STREAM_ID', /"bad id" is not a stream id/],
    ['too many ids', JSON.stringify({ streamIds: Array.from({ length: 101 }, (_, index) => `mine-${index}`) }), 'BAD_REQUEST', /1-100/],
  ])('answers 400 with a message for a malformed body (%s)', async (_name, body, code, message) => {
    const response = await handle(post(body));
    expect(response.status).toBe(400);
    const payload = (await response.json()) as { error: { code: string; message: string } };
    expect(payload.error.code).toBe(code);
    expect(payload.error.message).toMatch(message);
  });

  it('passes the context to authorize, maps its StreamstraightErrors, and rethrows other errors', async () => {
    const authorize = vi.fn((context: { user: string }, streamId: string) => {
      if (context.user === 'nobody') throw new StreamstraightError('UNAUTHORIZED', 'Sign in first.');
      if (context.user === 'broken') throw new Error('session store down');
      return streamId === `${context.user}-chat`;
    });
    const withContext = createTokenHandler({ apiKey, authorize });
    expect((await withContext(post('{"streamId":"ann-chat"}'), { user: 'ann' })).status).toBe(200);
    expect(authorize).toHaveBeenCalledWith({ user: 'ann' }, 'ann-chat');
    expect((await withContext(post('{"streamId":"ann-chat"}'), { user: 'nobody' })).status).toBe(401);
    await expect(withContext(post('{"streamId":"ann-chat"}'), { user: 'broken' })).rejects.toThrow('session store down');
  });

  it('takes the API key from a function on each request, and answers 500 while there is none', async () => {
    let configured: string | undefined;
    const lazy = createTokenHandler({ apiKey: () => configured, authorize: () => true });
    const missing = await lazy(post('{"streamId":"a"}'));
    expect(missing.status).toBe(500);
    expect(await missing.json()).toMatchObject({ error: { code: 'INTERNAL', message: expect.stringMatching(/returned no key/) } });
    configured = apiKey;
    const { token } = (await (await lazy(post('{"streamId":"a"}'))).json()) as { token: string };
    expect((await verifyClientToken(token, { apiKeys: [apiKey] })).streamIds).toEqual(['a']);
  });

  it('refuses missing options when it is created', () => {
    expect(() => createTokenHandler({ apiKey: '', authorize: () => true })).toThrow(/apiKey is required/);
    expect(() => createTokenHandler({ apiKey } as never)).toThrow(/authorize/);
  });
});
