import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base, caps at the max, and jitters down to half', () => {
    expect(backoffDelay(0, 100, 5000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 5000, () => 0.999999)).toBe(800);
    expect(backoffDelay(20, 100, 5000, () => 0.999999)).toBe(5000);
    expect(backoffDelay(20, 100, 5000, () => 0)).toBe(2500);
    expect(backoffDelay(5000, 100, 5000, () => 0)).toBe(2500);
  });
});
