import { describe, expect, it } from 'vitest';
import { StreamstraightError } from '@ss/core/protocol';
import { TokenSource, decodeTokenTimes, isTokenStale } from './token-source.js';

function base64url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function fakeJwt(claims: Record<string, unknown>): string {
  return `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}.signature`;
}

describe('decodeTokenTimes', () => {
  it('reads exp and iat in milliseconds', () => {
    expect(decodeTokenTimes(fakeJwt({ exp: 2000, iat: 1000, sub: 'ünïcödé ✓ ~~~?' }))).toEqual({ expiresAt: 2_000_000, issuedAt: 1_000_000 });
  });

  it('returns {} for anything that is not a readable JWT', () => {
    expect(decodeTokenTimes('opaque-token')).toEqual({});
    expect(decodeTokenTimes('a.!!!.c')).toEqual({});
    expect(decodeTokenTimes(`x.${base64url('[1,2]')}.y`)).toEqual({});
    expect(decodeTokenTimes(`x.${base64url('{"exp":"soon"}')}.y`)).toEqual({});
  });
});

describe('isTokenStale', () => {
  const now = 1_000_000_000_000;
  const seconds = (ms: number) => Math.floor(ms / 1000);

  it('is stale when expired or within 30 s of expiry', () => {
    expect(isTokenStale(fakeJwt({ exp: seconds(now - 1000) }), now)).toBe(true);
    expect(isTokenStale(fakeJwt({ exp: seconds(now + 20_000) }), now)).toBe(true);
    expect(isTokenStale(fakeJwt({ exp: seconds(now + 120_000) }), now)).toBe(false);
  });

  it('uses a quarter of a short lifetime as the margin', () => {
    const issued = seconds(now);
    const token = fakeJwt({ iat: issued, exp: issued + 8 }); // 8 s lifetime: refresh in the last 2 s
    expect(isTokenStale(token, now + 5_000)).toBe(false);
    expect(isTokenStale(token, now + 6_500)).toBe(true);
  });

  it('is never stale without exp', () => {
    expect(isTokenStale('opaque', now)).toBe(false);
  });
});

describe('TokenSource', () => {
  it('needs a fetchToken or a token', () => {
    expect(() => new TokenSource(undefined, undefined)).toThrow(StreamstraightError);
  });

  it('always hands out a static token', async () => {
    const source = new TokenSource(undefined, 'static');
    expect(await source.get()).toBe('static');
    source.invalidate();
    expect(await source.get()).toBe('static');
    expect(source.canRefresh).toBe(false);
  });

  it('caches a fresh token, refetches a stale or invalidated one, shares concurrent fetches', async () => {
    let clock = 1_000_000_000_000;
    let calls = 0;
    const source = new TokenSource(
      async () => {
        calls++;
        const issued = Math.floor(clock / 1000);
        return fakeJwt({ iat: issued, exp: issued + 60, n: calls });
      },
      undefined,
      () => clock,
    );
    const [first, second] = await Promise.all([source.get(), source.get()]);
    expect(first).toBe(second);
    expect(calls).toBe(1);
    clock += 30_000;
    expect(await source.get()).toBe(first);
    clock += 20_000; // 10 s left of 60: within the 15 s margin
    const third = await source.get();
    expect(third).not.toBe(first);
    source.invalidate();
    expect(await source.get()).not.toBe(third);
    expect(source.fetchCount).toBe(3);
  });

  it('rejects an empty token and lets the next call try again', async () => {
    let calls = 0;
    const source = new TokenSource(async () => (++calls === 1 ? '' : 'opaque'), undefined);
    await expect(source.get()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await source.get()).toBe('opaque');
  });
});
