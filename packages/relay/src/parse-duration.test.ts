import { describe, expect, it } from 'vitest';
import { parseDuration } from './parse-duration.js';

describe('parseDuration', () => {
  it('reads every unit and bare seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('45')).toBe(45_000);
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'ten minutes', '-5s', '0', '5y', '1e3']) expect(parseDuration(bad)).toBeUndefined();
  });
});
