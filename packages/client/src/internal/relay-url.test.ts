import { afterEach, describe, expect, it, vi } from 'vitest';
import { relayEndpoint, resolveBaseUrl } from './relay-url.js';

describe('relayEndpoint', () => {
  it('keeps the origin and appends the Socket.IO path to any prefix', () => {
    expect(relayEndpoint('http://127.0.0.1:8787')).toEqual({ origin: 'http://127.0.0.1:8787', path: '/socket.io' });
    expect(relayEndpoint('https://example.com/relay/')).toEqual({ origin: 'https://example.com', path: '/relay/socket.io' });
    expect(relayEndpoint('wss://example.com:444/a/b')).toEqual({ origin: 'wss://example.com:444', path: '/a/b/socket.io' });
  });

  it('refuses what is not an http(s) or ws(s) URL', () => {
    expect(() => relayEndpoint('relay.example.com')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => relayEndpoint('ftp://example.com')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('resolveBaseUrl', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('prefers the option, then STREAMSTRAIGHT_API_BASE_URL, then the local default', () => {
    vi.stubEnv('STREAMSTRAIGHT_API_BASE_URL', 'http://from-env:1');
    expect(resolveBaseUrl('http://option:1')).toBe('http://option:1');
    expect(resolveBaseUrl(undefined)).toBe('http://from-env:1');
    vi.stubEnv('STREAMSTRAIGHT_API_BASE_URL', '');
    expect(resolveBaseUrl(undefined)).toBe('http://localhost:8787');
  });
});
