/**
 * `createResumableStreamContext`: the public API of the `resumable-stream` package (same names,
 * same types, same semantics by default), backed by the relay instead of Redis pub/sub.
 */
import { streamstraightClient } from '@ss/client';
import { StreamstraightError, assertStreamId } from '@ss/core';
import { type ResumableRelayOptions, resolveRelayAccess } from './relay-access.js';
import { DEFAULT_RESPONSE_BUFFER_CHARACTERS, type ProduceOptions, type ProducerSettings, claimRelayStream } from './relay-stream-producer.js';
import { readRelayStream } from './relay-stream-reader.js';

/** Options of {@link createResumableStreamContext}. */
export interface CreateResumableStreamContextOptions {
  /**
   * A function that takes a promise and keeps the program alive until it settles (Next.js
   * `after`, a Workers `waitUntil`). Pass `null` on a long-running server. Same as resumable-stream.
   */
  waitUntil: ((promise: Promise<unknown>) => void) | null;
  /**
   * Prefix of the relay stream ids: stream `id` is relay stream `${keyPrefix}:${id}`. Default: none
   * (the relay stream id is the id you pass, so `@ss/client` and the ChatTransport read it as is).
   */
  keyPrefix?: string;
  /** The relay: `apiKey` (default `$SS_API_KEY`), `baseUrl` (default `$STREAMSTRAIGHT_API_BASE_URL`), producer options. */
  relay?: ResumableRelayOptions;
  /**
   * `false` (default, resumable-stream's behaviour): `resumeExistingStream` and `resumableStream`
   * answer `null` for a finished stream. `true`: they return the finished stream from
   * `skipCharacters` instead, as long as the relay keeps it (its `ttl`).
   */
  resumeFinishedStreams?: boolean;
  /**
   * Largest number of characters waiting in the stream returned to the producing call (the AI SDK
   * never reads the one `consumeSseStream` returns). Past it that copy is cut with `CLOSED`; the
   * relay keeps everything. Default 4 Mi characters.
   */
  responseBufferCharacters?: number;
  /**
   * Failures of a producer after its call returned (the relay unreachable, a `makeStream()` that
   * failed). Default: `console.error`. The stream returned to the caller still carries
   * `makeStream()`'s output when the relay fails.
   */
  onError?: (error: StreamstraightError, streamId: string) => void;
}

/** The context: resumable-stream's four methods, plus `cancelStream`. */
export interface ResumableStreamContext {
  /**
   * Creates the stream when `streamId` is new (`makeStream` runs only then), resumes it when it is
   * running, answers `null` when it is finished (or, with `resumeFinishedStreams`, replays it).
   * @param streamId - the stream id (relay ids: 1–256 characters of `A-Z a-z 0-9 . _ : ~ -`).
   * @param makeStream - returns the stream of strings; called only by the first caller.
   * @param skipCharacters - characters to skip when resuming (ignored when this call creates the stream, as in resumable-stream).
   * @param options - `abortController`, aborted when a reader cancels the stream.
   * @returns the stream, or `null` for a finished one.
   */
  resumableStream: (
    streamId: string,
    makeStream: () => ReadableStream<string>,
    skipCharacters?: number,
    options?: ProduceOptions,
  ) => Promise<ReadableStream<string> | null>;
  /**
   * Resumes a stream created by `createNewResumableStream`: everything from `skipCharacters`, then
   * the rest live.
   * @param streamId - the stream id.
   * @param skipCharacters - characters to skip from the start.
   * @returns the stream; `null` when it is finished (unless `resumeFinishedStreams`); `undefined` when there is no such stream.
   */
  resumeExistingStream: (streamId: string, skipCharacters?: number) => Promise<ReadableStream<string> | null | undefined>;
  /**
   * Creates a new stream (replacing one with the same id) and returns the caller's copy. The
   * producer reads `makeStream()` to the end even when nobody reads the copy, kept alive with `waitUntil`.
   * @param streamId - the stream id.
   * @param makeStream - returns the stream of strings (the AI SDK's `consumeSseStream` stream).
   * @param skipCharacters - ignored, as in resumable-stream.
   * @param options - `abortController`, aborted when a reader cancels the stream.
   * @returns the caller's copy of the stream. Never rejects for a relay failure (see `onError`).
   */
  createNewResumableStream: (
    streamId: string,
    makeStream: () => ReadableStream<string>,
    skipCharacters?: number,
    options?: ProduceOptions,
  ) => Promise<ReadableStream<string> | null>;
  /**
   * @param streamId - the stream id.
   * @returns `null` when there is no such stream, `true` while it runs, `'DONE'` once it finished.
   */
  hasExistingStream: (streamId: string) => Promise<null | true | 'DONE'>;
  /**
   * Cancels a running stream from anywhere (any process, any relay node): the producer's
   * `abortController` aborts, its source is stopped, and the stream ends `cancelled`, so every
   * reader closes. Does nothing for a finished stream.
   * @param streamId - the stream id.
   * @param reason - shown to the producer.
   * @throws StreamstraightError `STREAM_NOT_FOUND` when there is no such stream.
   */
  cancelStream: (streamId: string, reason?: string) => Promise<void>;
}

const defaultOnError = (error: StreamstraightError, streamId: string): void => {
  console.error(`[@ss/ai] resumable stream ${JSON.stringify(streamId)}: ${error.code}: ${error.message}`);
};

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new StreamstraightError('BAD_REQUEST', `createResumableStreamContext: ${name} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

/**
 * Creates a context for resumable streams backed by the Streamstraight relay: a drop-in for
 * `resumable-stream`'s `createResumableStreamContext` (change the import), whose chunks are
 * acknowledged and stored by the relay and readable from any relay node.
 *
 * @param options - `waitUntil` (required, may be `null`), `relay`, `keyPrefix`, `resumeFinishedStreams`, `responseBufferCharacters`, `onError`.
 * @returns the context.
 * @throws StreamstraightError `UNAUTHORIZED` when no API key is configured (`SS_API_KEY`).
 * @example
 * ```ts
 * import { createResumableStreamContext } from '@ss/ai/server'
 * import { after } from 'next/server'
 *
 * const streamContext = createResumableStreamContext({ waitUntil: after })
 * ```
 */
export function createResumableStreamContext(options: CreateResumableStreamContextOptions): ResumableStreamContext {
  if (typeof options !== 'object' || options === null) {
    throw new StreamstraightError('BAD_REQUEST', 'createResumableStreamContext({ waitUntil }) takes an options object.');
  }
  const access = resolveRelayAccess(options.relay);
  const keepAlive = options.waitUntil;
  const settings: ProducerSettings = {
    waitUntil: keepAlive ?? (() => {}),
    onError: options.onError ?? defaultOnError,
    responseBufferCharacters: nonNegativeInteger(options.responseBufferCharacters, DEFAULT_RESPONSE_BUFFER_CHARACTERS, 'responseBufferCharacters'),
  };
  const resumeFinished = options.resumeFinishedStreams === true;
  const relayId = (streamId: string): string =>
    assertStreamId(options.keyPrefix === undefined || options.keyPrefix === '' ? streamId : `${options.keyPrefix}:${streamId}`);

  /** A claim that never throws: an invalid id goes to `onError` like any relay failure. */
  const claim = async (streamId: string, makeStream: () => ReadableStream<string>, overwrite: boolean, produce: ProduceOptions | undefined) => {
    let id: string;
    try {
      id = relayId(streamId);
    } catch (error) {
      const failure = StreamstraightError.from(error);
      settings.onError(failure, streamId);
      return { kind: 'claimed' as const, stream: makeStream() };
    }
    const result = await claimRelayStream(access, id, settings, { overwrite, ...produce });
    return result.kind === 'taken' ? { kind: 'taken' as const, id } : { kind: 'claimed' as const, stream: result.start(makeStream) };
  };

  const resumeById = async (id: string, skipCharacters: number | undefined): Promise<ReadableStream<string> | null | undefined> => {
    // The reader connects while the status request is in flight (one round trip less before the
    // first chunk); it is closed unread when there is nothing to resume.
    const stream = readRelayStream(access, id, skipCharacters);
    let info: Awaited<ReturnType<typeof access.streamInfo>>;
    try {
      info = await access.streamInfo(id);
    } catch (error) {
      await stream.cancel();
      throw error;
    }
    if (info === undefined || (info.status === 'ended' && !resumeFinished)) {
      await stream.cancel();
      return info === undefined ? undefined : null;
    }
    return stream;
  };

  return {
    async resumableStream(streamId, makeStream, skipCharacters, produce) {
      const id = relayId(streamId);
      const info = await access.streamInfo(id).catch(() => undefined); // unreachable: try to create, which reports it
      if (info !== undefined) {
        if (info.status === 'ended' && !resumeFinished) return null;
        return readRelayStream(access, id, skipCharacters);
      }
      const result = await claim(streamId, makeStream, false, produce);
      if (result.kind === 'claimed') return result.stream;
      // Another caller created it between the status request and the open: resume theirs.
      return (await resumeById(result.id, skipCharacters)) ?? null;
    },

    async resumeExistingStream(streamId, skipCharacters) {
      return resumeById(relayId(streamId), skipCharacters);
    },

    async createNewResumableStream(streamId, makeStream, _skipCharacters, produce) {
      const result = await claim(streamId, makeStream, true, produce);
      return result.kind === 'claimed' ? result.stream : null;
    },

    async hasExistingStream(streamId) {
      const info = await access.streamInfo(relayId(streamId));
      if (info === undefined) return null;
      return info.status === 'ended' ? 'DONE' : true;
    },

    async cancelStream(streamId, reason) {
      const id = relayId(streamId);
      const info = await access.streamInfo(id);
      if (info === undefined) {
        throw new StreamstraightError('STREAM_NOT_FOUND', `No stream ${JSON.stringify(id)} to cancel: it was never created, or it expired.`);
      }
      if (info.status === 'ended') return;
      const reader = streamstraightClient<string>(
        { baseUrl: access.baseUrl, fetchToken: () => access.mintToken(id, true), decoder: (data) => data },
        { streamId: id, fromSeq: info.lastSeq + 1 },
      );
      try {
        await reader.cancel(reason);
      } catch (error) {
        // A relay node without the stream's producer ends the stream itself before it answers; the
        // reader then sees the end and may close before the answer arrives. The end is the answer.
        const after = await access.streamInfo(id).catch(() => undefined);
        if (after?.status !== 'ended') throw error;
      } finally {
        reader.close();
      }
    },
  };
}
