/**
 * What both readers (Socket.IO and SSE) share: option checks, the end reasons that finish an
 * iteration normally, and the error for one that ended badly.
 */
import { type EndReason, StreamstraightError } from '@ss/core/protocol';

/** `Symbol.asyncDispose` where the runtime has it, else the well-known fallback TypeScript uses. */
export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/** End reasons after which the iteration simply finishes. */
export const NORMAL_ENDS: ReadonlySet<EndReason> = new Set(['completed', 'cancelled', 'ignore-ended']);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new StreamstraightError('BAD_REQUEST', `\`${name}\` must be a number >= 0, got ${String(value)}.`);
  }
  return value;
}

/** The error a reader throws for a stream that ended badly. */
export function endError(streamId: string, reason: EndReason, lastSeq: number): StreamstraightError {
  const after = lastSeq < 0 ? 'before its first chunk' : `after chunk ${lastSeq}`;
  if (reason === 'not-found') {
    return new StreamstraightError('STREAM_NOT_FOUND', `Stream "${streamId}" ended with reason "not-found": the relay has no such stream.`);
  }
  const why: Record<string, string> = {
    'producer-error': 'the producer reported an error',
    'producer-disconnected': 'the producer disconnected and did not come back',
    'inactivity-timeout': 'the producer sent nothing for too long',
  };
  return new StreamstraightError('PRODUCER_ERROR', `Stream "${streamId}" ended with reason "${reason}" ${after}: ${why[reason] ?? 'it did not complete'}.`);
}

