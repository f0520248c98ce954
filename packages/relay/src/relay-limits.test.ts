import { describe, expect, it } from 'vitest';
import { DEFAULT_RELAY_LIMITS, LIMIT_FLAGS, limitEnvName, limitsFromArgs, resolveLimits } from './relay-limits.js';

describe('relay limits', () => {
  it('every limit has a default and a flag', () => {
    expect(Object.keys(LIMIT_FLAGS).sort()).toEqual(Object.keys(DEFAULT_RELAY_LIMITS).sort());
  });

  it('reads flags (counts, bytes, durations) and their environment variables, a flag winning', () => {
    expect(limitsFromArgs({ 'max-queued-bytes-per-reader': '1048576', 'slow-reader-timeout': '2s' }, { SS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '7', SS_SLOW_READER_TIMEOUT: '9s' })).toEqual({
      maxQueuedBytesPerReader: 1_048_576,
      slowReaderTimeoutMs: 2_000,
      maxSubscriptionsPerConnection: 7,
    });
    expect(limitEnvName('max-open-streams-per-key')).toBe('SS_MAX_OPEN_STREAMS_PER_KEY');
  });

  it('refuses a value that does not parse, naming the flag', () => {
    expect(() => limitsFromArgs({ 'max-stream-bytes': 'lots' })).toThrow('--max-stream-bytes must be an integer >= 0, got "lots".');
    expect(() => limitsFromArgs({ 'handshake-timeout': 'soon' })).toThrow('--handshake-timeout must be a duration');
    expect(() => resolveLimits({ maxStreamBytes: -1 })).toThrow('maxStreamBytes must be a number >= 0');
    expect(resolveLimits({ maxStreamBytes: 5 })).toMatchObject({ maxStreamBytes: 5, maxOpenStreamsPerKey: DEFAULT_RELAY_LIMITS.maxOpenStreamsPerKey });
  });
});
