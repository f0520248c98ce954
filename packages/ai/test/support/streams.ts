// Sources a test controls chunk by chunk, and readers that collect a stream of strings in the
// background so a test can wait on what arrived so far.
import { setTimeout as sleep } from 'node:timers/promises';

/** A `makeStream` whose stream the test feeds: `push` a string, `end` it, or `fail` it. */
export interface ControlledSource {
  /** Pass as `makeStream`; counts its calls. */
  makeStream: () => ReadableStream<string>;
  /** How many times `makeStream` was called. */
  readonly calls: number;
  push(chunk: string): void;
  end(): void;
  fail(error: unknown): void;
  /** Resolves when the producer cancelled the source (after a reader's cancel). */
  readonly cancelled: Promise<unknown>;
}

export function controlledSource(): ControlledSource {
  let controller: ReadableStreamDefaultController<string> | undefined;
  let calls = 0;
  let onCancel: (reason: unknown) => void = () => {};
  const cancelled = new Promise<unknown>((resolve) => {
    onCancel = resolve;
  });
  const stream = new ReadableStream<string>({
    start(c) {
      controller = c;
    },
    cancel(reason) {
      onCancel(reason);
    },
  });
  return {
    makeStream: () => {
      calls++;
      return stream;
    },
    get calls() {
      return calls;
    },
    push: (chunk) => controller?.enqueue(chunk),
    end: () => controller?.close(),
    fail: (error) => controller?.error(error),
    cancelled,
  };
}

/** What a {@link collect} reader got. */
export interface Collected {
  /** The text so far. */
  readonly text: string;
  /** Resolves when the stream closed or errored: the whole text, and the error if it errored. */
  readonly done: Promise<{ text: string; error: unknown }>;
  /** Cancels the stream (as a client that goes away). */
  cancel(): Promise<void>;
}

/** Reads `stream` to the end in the background. */
export function collect(stream: ReadableStream<string>): Collected {
  const reader = stream.getReader();
  let text = '';
  const done = (async () => {
    try {
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) return { text, error: undefined };
        text += value;
      }
    } catch (error) {
      return { text, error };
    }
  })();
  return {
    get text() {
      return text;
    },
    done,
    cancel: () => reader.cancel(),
  };
}

/**
 * Resolves once `check` returns true, polling every 10 ms.
 * @param check - the condition (may be async).
 * @param what - named in the error on timeout.
 * @param timeoutMs - how long to wait. Default 10 s.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A stream id no other test uses. */
export function uniqueId(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
