import { describe, expect, it } from 'vitest';
import { responseCursor } from './cursor.js';

describe('Stream-Cursor', () => {
  const now = Date.UTC(2026, 0, 1);
  const current = responseCursor(null, now);

  it('is the 20-second interval number since 2024-10-09', () => {
    expect(current).toBe(String(Math.floor((now - Date.UTC(2024, 9, 9)) / 20_000)));
    expect(responseCursor(String(Number(current) - 5), now)).toBe(current);
    expect(responseCursor('garbage', now)).toBe(current);
  });

  it('always moves past a cursor that is not behind the clock', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      expect(Number(responseCursor(current, now))).toBeGreaterThan(Number(current));
      expect(Number(responseCursor(String(Number(current) + 10), now))).toBeGreaterThan(Number(current) + 10);
    }
  });
});
