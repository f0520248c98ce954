import { describe, expect, it } from 'vitest';
import { StreamstraightError } from '../errors.js';
import { openSource } from './source.js';

async function drain<T>(source: Parameters<typeof openSource<T>>[0]): Promise<T[]> {
  const iterator = openSource(source);
  const items: T[] = [];
  for (;;) {
    const result = iterator.sync ? iterator.next() : await iterator.next();
    if (result.done) return items;
    items.push(result.value);
  }
}

describe('openSource', () => {
  it('reads a plain iterable synchronously', async () => {
    expect(openSource([1, 2]).sync).toBe(true);
    expect(await drain(new Set(['a', 'b']))).toEqual(['a', 'b']);
  });

  it('reads an async iterable', async () => {
    async function* generate() {
      yield 1;
      yield 2;
    }
    expect(openSource(generate()).sync).toBe(false);
    expect(await drain(generate())).toEqual([1, 2]);
  });

  it('reads a ReadableStream and cancels it on return()', async () => {
    const finite = new ReadableStream({
      start(controller) {
        controller.enqueue('x');
        controller.close();
      },
    });
    expect(await drain(finite)).toEqual(['x']);
    let cancelled = false;
    const stream = new ReadableStream<string>({
      pull: (controller) => controller.enqueue('more'),
      cancel: () => {
        cancelled = true;
      },
    });
    const iterator = openSource(stream);
    await iterator.next();
    iterator.return();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cancelled).toBe(true);
  });

  it('runs an async generator’s finally on return()', async () => {
    let finished = false;
    async function* generate() {
      try {
        for (;;) yield 'token';
      } finally {
        finished = true;
      }
    }
    const iterator = openSource(generate());
    await iterator.next();
    iterator.return();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(finished).toBe(true);
  });

  it('refuses strings and non-iterables with BAD_REQUEST', () => {
    for (const bad of ['text', 42, null, {}]) {
      try {
        openSource(bad as never);
        expect.unreachable();
      } catch (error) {
        expect(StreamstraightError.isInstance(error) && error.code).toBe('BAD_REQUEST');
      }
    }
  });
});
