import { describe, expect, it } from 'vitest';
import { isRetryableCode, relayRefusal } from './relay-error.js';

describe('relayRefusal', () => {
  it('reads the payload from err.data', () => {
    const error = Object.assign(new Error('whatever'), { data: { code: 'UNAUTHORIZED', message: 'Token expired' } });
    expect(relayRefusal(error)).toMatchObject({ code: 'UNAUTHORIZED', message: 'Token expired' });
  });

  it('reads the payload from a JSON err.message', () => {
    const error = new Error(JSON.stringify({ code: 'FORBIDDEN', message: 'Not your stream' }));
    expect(relayRefusal(error)).toMatchObject({ code: 'FORBIDDEN', message: 'Not your stream' });
  });

  it('gives undefined for transport failures and junk', () => {
    expect(relayRefusal(new Error('xhr poll error'))).toBeUndefined();
    expect(relayRefusal(new Error('{not json'))).toBeUndefined();
    expect(relayRefusal(new Error('{"code":"NOPE","message":"x"}'))).toBeUndefined();
    expect(relayRefusal(Object.assign(new Error('x'), { data: 'text' }))).toBeUndefined();
    expect(relayRefusal(undefined)).toBeUndefined();
    expect(relayRefusal('string')).toBeUndefined();
  });
});

describe('isRetryableCode', () => {
  it('retries transient failures only', () => {
    expect(isRetryableCode('RELAY_UNAVAILABLE')).toBe(true);
    expect(isRetryableCode('STORE_UNAVAILABLE')).toBe(true);
    expect(isRetryableCode('FORBIDDEN')).toBe(false);
    expect(isRetryableCode('STREAM_NOT_FOUND')).toBe(false);
    expect(isRetryableCode('BAD_REQUEST')).toBe(false);
  });
});
