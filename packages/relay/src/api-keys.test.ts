import { describe, expect, it } from 'vitest';
import { bearerToken, createApiKeyCheck } from './api-keys.js';

describe('createApiKeyCheck', () => {
  it('accepts exactly the configured keys', () => {
    const check = createApiKeyCheck(['key-new', 'key-old']);
    expect(check('key-new')).toBe(true);
    expect(check('key-old')).toBe(true);
    expect(check('key-ne')).toBe(false);
    expect(check('key-new ')).toBe(false);
    expect(check('KEY-NEW')).toBe(false);
    expect(check('a much longer key than any configured one'.repeat(10))).toBe(false);
    expect(check('')).toBe(false);
    expect(check(undefined)).toBe(false);
  });

  it('compares unicode keys byte for byte', () => {
    const check = createApiKeyCheck(['clé-ünïcode']);
    expect(check('clé-ünïcode')).toBe(true);
    expect(check('cle-unicode')).toBe(false);
  });

  it('refuses an empty list or an empty key at creation', () => {
    expect(() => createApiKeyCheck([])).toThrow(/at least one API key/);
    expect(() => createApiKeyCheck(['ok', ''])).toThrow(/non-empty/);
  });
});

describe('bearerToken', () => {
  it('reads a bearer credential', () => {
    expect(bearerToken('Bearer abc.def-ghi')).toBe('abc.def-ghi');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('  Bearer   abc  ')).toBe('abc');
  });

  it('returns undefined for anything else', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(null)).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearerabc')).toBeUndefined();
  });
});
