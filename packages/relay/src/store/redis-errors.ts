import { StreamstraightError } from '@ss/core/protocol';

/** How long a caller should wait before retrying when Redis is unreachable or busy. */
export const REDIS_RETRY_IN_MS = 1000;

/** Redis error replies that mean "try again soon" (the server is loading, failing over, full). */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'READONLY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'NOREPLICAS', 'OOM'];

/** What the failing operation was doing, for messages a user can act on. */
export interface RedisErrorContext {
  streamId: string;
  /** The first seq of the refused frame (appends). */
  seq?: number;
  /** The lastSeq the end frame claimed (ends). */
  expectedLastSeq?: number;
}

/** Whether `error` is an error reply from Redis (as opposed to a connection failure or a timeout). */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Turns whatever a Redis call threw into a `StreamstraightError`: the scripts' `SS_*` replies
 * become their codes, a key of a foreign type becomes `STREAM_CORRUPT` (not retryable) naming the key,
 * and an unreachable or busy Redis becomes a retryable `STORE_UNAVAILABLE`.
 *
 * @param error - what the call threw.
 * @param context - the stream (and seq) the call was about.
 * @returns the error to throw.
 */
export function toStoreError(error: unknown, context: RedisErrorContext): StreamstraightError {
  if (StreamstraightError.isInstance(error)) return error;
  const { streamId } = context;
  const message = error instanceof Error ? error.message : String(error);
  if (isReplyError(error)) {
    // Redis puts "ERR " before a script's error reply that has no code of its own.
    const words = message.split(' ');
    if (words[0] === 'ERR' && words[1]?.startsWith('SS_')) words.shift();
    const [code = '', ...args] = words;
    switch (code) {
      case 'SS_NOT_FOUND':
        return new StreamstraightError('STREAM_NOT_FOUND', `Stream "${streamId}" does not exist (or expired). Open it before writing.`);
      case 'SS_EXISTS':
        return new StreamstraightError('STREAM_EXISTS', `Stream "${streamId}" already exists. Pick a new id, or pass overwriteExistingStream: true to replace it.`);
      case 'SS_ENDED':
        return new StreamstraightError(
          'STREAM_ENDED',
          `Stream "${streamId}" has ended (${args[0] || 'ended'}); nothing can follow its end. Pick a new id, or pass overwriteExistingStream: true to replace it.`,
        );
      case 'SS_LEASE_LOST':
        return new StreamstraightError('LEASE_LOST', `Another producer took over stream "${streamId}"; this one must stop writing.`);
      case 'SS_SEQ_GAP': {
        const lastSeq = Number(args[0]);
        return new StreamstraightError(
          'SEQ_GAP',
          `Chunk ${context.seq ?? '?'} of stream "${streamId}" skips ahead: the relay holds up to ${lastSeq}. Resend from ${lastSeq + 1}.`,
        );
      }
      case 'SS_END_MISMATCH':
        return new StreamstraightError(
          'SEQ_GAP',
          `End of stream "${streamId}" claims last chunk ${context.expectedLastSeq ?? '?'}, but the relay holds up to ${args[0]}. Send the missing chunks first.`,
        );
      case 'SS_WRONGTYPE':
        return wrongType(streamId, `Redis key "${args[0]}" holds a ${args[1]}, not the ${args[2]} the relay keeps there`, error);
      case 'WRONGTYPE':
        return wrongType(streamId, 'one of its Redis keys holds a value of another type than the relay keeps there', error);
    }
    if (TRANSIENT_REPLIES.includes(code)) {
      return new StreamstraightError('STORE_UNAVAILABLE', `Redis is busy or failing over (${message}). Retry shortly.`, {
        cause: error,
        retryInMs: REDIS_RETRY_IN_MS,
      });
    }
    return new StreamstraightError('INTERNAL', `Redis refused an operation on stream "${streamId}": ${message}`, { cause: error });
  }
  // ioredis fails queued commands with MaxRetriesPerRequestError when a reconnect attempt fails.
  const detail = error instanceof Error && error.name === 'MaxRetriesPerRequestError' ? 'no connection' : message;
  return new StreamstraightError('STORE_UNAVAILABLE', `Redis is unreachable (${detail}); nothing was stored. Retry shortly.`, {
    cause: error,
    retryInMs: REDIS_RETRY_IN_MS,
  });
}

function wrongType(streamId: string, detail: string, cause: unknown): StreamstraightError {
  return new StreamstraightError(
    'STREAM_CORRUPT',
    `Stream "${streamId}" cannot be used: ${detail}. Another program wrote there; delete the stream's keys or give the relay its own keyPrefix.`,
    { cause },
  );
}
