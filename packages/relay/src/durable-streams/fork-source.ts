/**
 * What a fork inherits. A fork is a copy: the source's chunks before the fork offset (and, with a
 * sub-offset, part of the next append) become the fork's first chunks, at the same offsets, so
 * the fork reads exactly like the source up to there and lives on its own afterwards. The source
 * keeps a reference count, so deleting it while forks exist soft-deletes it (410).
 */
import type { StreamStore } from '../store/stream-store.js';
import { chunkPrefix } from './content-types.js';
import { FaceError } from './http-io.js';
import { formatOffset, parseOffset } from './offsets.js';
import type { StreamView } from './stream-config.js';

/** The fork headers of a PUT, validated. */
export interface ForkRequest {
  sourceId: string;
  /** `Stream-Fork-Offset` as sent, or undefined (the source's tail). */
  offsetText: string | undefined;
  subOffset: number;
}

/** What the fork starts with. */
export interface Inheritance {
  chunks: string[];
  /** The resolved fork offset, kept in the fork's metadata. */
  forkOffset: string;
}

const INTEGER = /^(0|[1-9]\d*)$/;

/** Validates `Stream-Fork-Sub-Offset` (present only with `Stream-Forked-From`). */
export function parseSubOffset(value: string | undefined, forked: boolean, offsetGiven: boolean): number {
  if (value === undefined) return 0;
  if (!forked) throw new FaceError(400, 'BAD_REQUEST', 'Stream-Fork-Sub-Offset needs Stream-Forked-From.');
  if (!INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new FaceError(400, 'BAD_REQUEST', `Stream-Fork-Sub-Offset ${JSON.stringify(value)} is not a non-negative integer without sign or leading zeros.`);
  }
  const subOffset = Number(value);
  if (subOffset > 0 && !offsetGiven) throw new FaceError(400, 'BAD_REQUEST', 'A Stream-Fork-Sub-Offset above 0 needs a Stream-Fork-Offset to count from.');
  return subOffset;
}

/**
 * Reads what a fork of `source` inherits.
 * @param maxChunks - the most chunks a fork may copy (`maxForkChunks`); more is a 413.
 */
export async function inherit(store: StreamStore, source: StreamView, fork: ForkRequest, maxChunks: number): Promise<Inheritance> {
  let at = source.tail;
  if (fork.offsetText !== undefined) {
    const parsed = parseOffset(fork.offsetText);
    if (!parsed || 'now' in parsed) throw new FaceError(400, 'BAD_REQUEST', `Malformed Stream-Fork-Offset ${JSON.stringify(fork.offsetText)}: use a Stream-Next-Offset of the source.`);
    if (parsed.seq > source.tail) {
      throw new FaceError(400, 'BAD_REQUEST', `Stream-Fork-Offset ${fork.offsetText} is past the end of the source (${formatOffset(source.tail)}).`);
    }
    at = parsed.seq;
  }
  const whole = source.encoding === 'json' ? at + fork.subOffset : at;
  if (whole > source.tail) throw new FaceError(400, 'BAD_REQUEST', `Stream-Fork-Sub-Offset ${fork.subOffset} goes past the source's last message.`);
  const partial = source.encoding !== 'json' && fork.subOffset > 0;
  if (whole + (partial ? 1 : 0) > maxChunks) {
    throw new FaceError(413, 'CHUNK_TOO_LARGE', `A fork copies the source's chunks; this one would copy more than ${maxChunks} (maxForkChunks).`);
  }
  const chunks: string[] = [];
  while (chunks.length < whole) {
    const page = await store.read(source.streamId, chunks.length, Math.min(1000, whole - chunks.length));
    if (page.length === 0) throw new FaceError(409, 'STREAM_NOT_FOUND', `The source stream ${JSON.stringify(source.streamId)} changed while it was being forked; try again.`);
    chunks.push(...page);
  }
  if (partial) {
    const [next] = await store.read(source.streamId, at, 1);
    const prefix = next === undefined ? undefined : chunkPrefix(next, source.encoding, fork.subOffset);
    if (prefix === undefined) throw new FaceError(400, 'BAD_REQUEST', `Stream-Fork-Sub-Offset ${fork.subOffset} goes past the end of the append at the fork offset.`);
    chunks.push(prefix);
  }
  return { chunks, forkOffset: formatOffset(at) };
}
