/**
 * The producer of a resumable stream: claims the id at the relay, then reads `makeStream()` to the
 * end, whatever its first reader does, sending every string to the relay (acknowledged, stored)
 * and to the caller's own branch.
 */
import { StreamstraightError, type StreamWriter, streamstraightServer } from '@ss/core';
import type { RelayAccess } from './relay-access.js';

const identity = (chunk: string): string => chunk;
const ignore = (): void => {};

/** Default of `responseBufferCharacters`: 4 Mi characters waiting in the caller's branch. */
export const DEFAULT_RESPONSE_BUFFER_CHARACTERS = 4 * 1024 * 1024;

/** What the producer needs besides the relay connection. */
export interface ProducerSettings {
  /** Largest number of characters queued in the caller's branch before it is cut (errored with `CLOSED`). */
  responseBufferCharacters: number;
  /** Keeps the process alive until the producer is done. */
  waitUntil: (promise: Promise<unknown>) => void;
  /** Reports failures that happen after the call returned. */
  onError: (error: StreamstraightError, streamId: string) => void;
}

/** Per-call options of `createNewResumableStream` / `resumableStream` (an extension of resumable-stream's API). */
export interface ProduceOptions {
  /**
   * Aborted when a reader cancels the stream through the relay (`context.cancelStream(id)`,
   * `@ss/client`'s `reader.cancel()`, the ChatTransport's `cancelOnStop`). Pass its `signal` to
   * the model call (`streamText({ abortSignal })`) so a cancel stops the generation.
   */
  abortController?: AbortController;
}

/** The result of a claim: the id is ours (`start` it), or another producer holds it. */
export type Claim = { kind: 'claimed'; start: (makeStream: () => ReadableStream<string>) => ReadableStream<string> } | { kind: 'taken' };

/**
 * Opens `streamId` at the relay and waits for the relay to acknowledge it.
 *
 * - `overwrite`: replace a stream with the same id (resumable-stream's `createNewResumableStream`);
 *   without it an id in use answers `taken` (its `resumableStream`).
 * - When the relay cannot be reached or refuses (other than an id in use), the failure goes to
 *   `onError` and the claim still succeeds: the caller's stream then carries `makeStream()` alone,
 *   so the answer is never lost because of the relay.
 *
 * @returns the claim; never rejects.
 */
export async function claimRelayStream(
  access: RelayAccess,
  streamId: string,
  settings: ProducerSettings,
  options: { overwrite: boolean } & ProduceOptions,
): Promise<Claim> {
  let finish: () => void = ignore;
  settings.waitUntil(
    new Promise<void>((resolve) => {
      finish = resolve;
    }),
  );
  let writer: StreamWriter<string> | undefined;
  let relayError: StreamstraightError | undefined;
  try {
    const server = await streamstraightServer<string>(access.serverOptions, {
      streamId,
      encoder: identity,
      overwriteExistingStream: options.overwrite,
    });
    writer = server.streamWriter<string>();
    await writer.opened;
  } catch (error) {
    const failure = StreamstraightError.from(error);
    if (failure.code === 'STREAM_EXISTS' && !options.overwrite) {
      finish();
      return { kind: 'taken' };
    }
    writer = undefined;
    relayError = failure;
    settings.onError(failure, streamId);
  }
  return {
    kind: 'claimed',
    start(makeStream) {
      const branch = new CallerBranch(settings.responseBufferCharacters);
      pump(access, streamId, makeStream, writer, relayError, branch, settings, options.abortController).finally(finish);
      return branch.stream;
    },
  };
}

/**
 * Reads the source to the end: every string goes to the relay writer (while it works) and to the
 * caller's branch (while it is attached). A reader's cancel stops the source and aborts
 * `abortController`. Never rejects.
 */
async function pump(
  access: RelayAccess,
  streamId: string,
  makeStream: () => ReadableStream<string>,
  relayWriter: StreamWriter<string> | undefined,
  initialRelayError: StreamstraightError | undefined,
  branch: CallerBranch,
  settings: ProducerSettings,
  abortController: AbortController | undefined,
): Promise<void> {
  let writer = relayWriter;
  let relayError = initialRelayError;
  const relayFailed = (error: unknown): void => {
    if (relayError !== undefined) return;
    relayError = StreamstraightError.from(error);
    writer = undefined;
    settings.onError(relayError, streamId);
  };

  let source: ReadableStreamDefaultReader<string>;
  try {
    source = makeStream().getReader();
  } catch (error) {
    const failure = new StreamstraightError('PRODUCER_ERROR', `makeStream() of stream ${JSON.stringify(streamId)} threw.`, { cause: error });
    settings.onError(failure, streamId);
    branch.error(failure);
    await writer?.close('producer-error').catch(ignore);
    return;
  }

  let cancelled = false;
  const onCancel = (): void => {
    cancelled = true;
    const reason: unknown =
      writer?.signal.reason ?? new StreamstraightError('STREAM_CANCELLED', `A reader cancelled stream ${JSON.stringify(streamId)} (through another relay node).`);
    abortController?.abort(reason);
    source.cancel(reason).catch(ignore);
  };
  const signal = writer?.signal;
  if (signal?.aborted) onCancel();
  else signal?.addEventListener('abort', onCancel, { once: true });

  try {
    for (;;) {
      let result: ReadableStreamReadResult<string>;
      try {
        result = await source.read();
      } catch (error) {
        if (cancelled) break;
        const failure = new StreamstraightError('PRODUCER_ERROR', `The stream from makeStream() of ${JSON.stringify(streamId)} failed.`, { cause: error });
        settings.onError(failure, streamId);
        branch.error(failure);
        await writer?.close('producer-error').catch(ignore);
        return;
      }
      if (result.done) break;
      const chunk = result.value;
      if (typeof chunk !== 'string') {
        const failure = new StreamstraightError(
          'BAD_REQUEST',
          `makeStream() of ${JSON.stringify(streamId)} must return a ReadableStream of strings (as the AI SDK's consumeSseStream does); got ${typeof chunk}.`,
        );
        settings.onError(failure, streamId);
        source.cancel(failure).catch(ignore);
        branch.error(failure);
        await writer?.close('producer-error').catch(ignore);
        return;
      }
      branch.push(chunk);
      if (writer !== undefined) {
        try {
          await writer.send(chunk);
        } catch (error) {
          if (cancelled || StreamstraightError.from(error).code === 'STREAM_CANCELLED' || (await endedByCancel(access, streamId, error))) {
            if (!cancelled) onCancel();
            break;
          }
          relayFailed(error);
        }
      }
    }
    branch.close();
    // A writer that failed on a cancel from another node has nothing left to end.
    if (writer !== undefined && !(cancelled && writer.closed)) {
      await writer.close(cancelled ? 'cancelled' : 'completed').catch(relayFailed);
    }
  } finally {
    signal?.removeEventListener('abort', onCancel);
  }
}

/**
 * Whether a write failed because the stream was cancelled where this producer could not hear it:
 * a reader on another relay node cancels a stream whose producer is connected elsewhere, and
 * that node ends it `cancelled` in the shared store; this producer then learns it as
 * `STREAM_ENDED` on its next write.
 */
async function endedByCancel(access: RelayAccess, streamId: string, error: unknown): Promise<boolean> {
  if (StreamstraightError.from(error).code !== 'STREAM_ENDED') return false;
  const info = await access.streamInfo(streamId).catch(() => undefined);
  return info?.status === 'ended' && info.endReason === 'cancelled';
}

/**
 * The caller's own copy: queued up to a limit (the AI SDK drops the stream `consumeSseStream`
 * returns, so nobody may ever read it), detached when cancelled, cut (errored with `CLOSED`) past
 * the limit. Never blocks the producer.
 */
class CallerBranch {
  readonly stream: ReadableStream<string>;
  #controller: ReadableStreamDefaultController<string> | undefined;
  #attached = true;
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
    this.stream = new ReadableStream<string>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => {
          this.#attached = false;
        },
      },
      { highWaterMark: limit, size: (chunk) => chunk.length },
    );
  }

  push(chunk: string): void {
    const controller = this.#controller;
    if (!this.#attached || controller === undefined) return;
    controller.enqueue(chunk);
    if ((controller.desiredSize ?? 0) < 0) {
      this.error(
        new StreamstraightError(
          'CLOSED',
          `The first reader of this resumable stream read too slowly: more than ${this.#limit} characters were waiting (responseBufferCharacters), so its copy was cut. Resume it from the relay.`,
        ),
      );
    }
  }

  close(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#controller?.close();
  }

  error(error: StreamstraightError): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#controller?.error(error);
  }
}
