// The two implementations the shared case list runs against: the real `resumable-stream` 2.2.13 on
// a private redis-server, and `@ss/ai/server`'s context on a real relay. Each test gets a fresh
// context; every promise handed to `waitUntil` is awaited after the test.
import { type ResumableStreamContext, createResumableStreamContext } from '../../src/server.js';
import { Redis } from 'ioredis';
import { createResumableStreamContext as createRedisResumableStreamContext } from 'resumable-stream/generic';
import { afterEach } from 'vitest';

/** The API both implement: resumable-stream's four methods. */
export type CompatContext = Pick<ResumableStreamContext, 'resumableStream' | 'resumeExistingStream' | 'createNewResumableStream' | 'hasExistingStream'>;

export type SubjectName = 'resumable-stream' | '@ss/ai';

export interface Harness {
  readonly name: SubjectName;
  readonly context: CompatContext;
  /** Promises given to `waitUntil` so far. */
  readonly kept: Promise<unknown>[];
}

/**
 * Makes a fresh context per test and, after it, waits for its `waitUntil` promises and closes what it opened.
 * @param name - which implementation.
 * @param where - the Redis URL (resumable-stream) or the relay URL and API key (ours).
 */
export function useSubject(name: SubjectName, where: () => { redisUrl?: string; relayUrl?: string; apiKey?: string }): () => Harness {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup(); // in order: the kept promises settle before the connections close
  });
  return () => {
    const kept: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>) => {
      kept.push(promise);
    };
    cleanups.push(() => Promise.race([Promise.allSettled(kept), new Promise((resolve) => setTimeout(resolve, 5_000))]));
    const { redisUrl, relayUrl, apiKey } = where();
    if (name === 'resumable-stream') {
      const publisher = new Redis(redisUrl as string);
      const subscriber = new Redis(redisUrl as string);
      cleanups.push(async () => {
        publisher.disconnect();
        subscriber.disconnect();
      });
      const context = createRedisResumableStreamContext({ waitUntil, publisher, subscriber });
      return { name, context, kept };
    }
    const context = createResumableStreamContext({ waitUntil, relay: { apiKey, baseUrl: relayUrl } });
    return { name, context, kept };
  };
}
