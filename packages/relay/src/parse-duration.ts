const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration such as `500ms`, `30s`, `10m`, `1h` or `2d`; a bare number is seconds.
 * @param text - the duration.
 * @returns milliseconds, or `undefined` when `text` is not a positive duration.
 * @example
 * ```ts
 * parseDuration('10m') // 600000
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? 's']!;
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined;
}
