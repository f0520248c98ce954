/**
 * Durable Streams offsets over the relay's chunk numbers. An offset names a position between
 * chunks: `<next seq, 16 digits>_<16 zeros>`, so `0000000000000000_0000000000000000` is the start
 * of every stream (the zero offset the protocol's own tests use) and offsets sort as strings the
 * way positions do. `-1` (the start) and `now` (the tail) are the protocol's sentinels.
 */

const OFFSET_PATTERN = /^(\d{16})_0{16}$/;
const WIDTH = 16;

/** The offset before chunk `seq` (equivalently: after chunk `seq - 1`). */
export function formatOffset(seq: number): string {
  return `${String(seq).padStart(WIDTH, '0')}_${'0'.repeat(WIDTH)}`;
}

/** A requested read position: a chunk number, or `now` (the tail when the request is served). */
export type RequestedOffset = { seq: number } | { now: true };

/**
 * Parses an offset a client sent.
 * @param value - the query parameter or header value.
 * @returns the position, or `undefined` when the value is not `-1`, `now` or an offset this relay issues.
 */
export function parseOffset(value: string): RequestedOffset | undefined {
  if (value === '-1') return { seq: 0 };
  if (value === 'now') return { now: true };
  const match = OFFSET_PATTERN.exec(value);
  if (!match) return undefined;
  const seq = Number(match[1]);
  return Number.isSafeInteger(seq) ? { seq } : undefined;
}

/** What a malformed offset is answered with. */
export const OFFSET_SHAPE = 'an offset is "-1" (the start), "now" (the tail) or a Stream-Next-Offset value this relay returned';
