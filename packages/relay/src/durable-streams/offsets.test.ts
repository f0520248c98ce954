import { describe, expect, it } from 'vitest';
import { formatOffset, parseOffset } from './offsets.js';

describe('Durable Streams offsets', () => {
  it('formats positions so that string order is position order, starting at the zero offset', () => {
    expect(formatOffset(0)).toBe('0000000000000000_0000000000000000');
    expect(formatOffset(12)).toBe('0000000000000012_0000000000000000');
    const offsets = [0, 1, 9, 10, 99, 100, 12345].map(formatOffset);
    expect([...offsets].sort()).toEqual(offsets);
  });

  it('parses what it formats and the -1 / now sentinels; refuses anything else', () => {
    expect(parseOffset(formatOffset(42))).toEqual({ seq: 42 });
    expect(parseOffset('-1')).toEqual({ seq: 0 });
    expect(parseOffset('now')).toEqual({ now: true });
    for (const bad of ['', ' ', '0', '42', '-2', 'NOW', '0000000000000001_0000000000000001', '../0000000000000001_0000000000000000', '0000000000000001_0000000000000000,x']) {
      expect(parseOffset(bad), bad).toBeUndefined();
    }
  });
});
