import { describe, expect, it } from 'vitest';
import { ChunkQueue } from './chunk-queue.js';

async function drain<T>(queue: ChunkQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const result = await queue.next();
    if (result.done) return out;
    out.push(result.value);
  }
}

describe('ChunkQueue', () => {
  it('hands out buffered items in order, then done after finish()', async () => {
    const queue = new ChunkQueue<string>();
    queue.push(['a', 'b']);
    queue.push(['c']);
    queue.finish();
    expect(await drain(queue)).toEqual(['a', 'b', 'c']);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('wakes a waiting consumer on push, keeping the rest buffered', async () => {
    const queue = new ChunkQueue<number>();
    const first = queue.next();
    queue.push([1, 2, 3]);
    expect(await first).toEqual({ done: false, value: 1 });
    expect(queue.size).toBe(2);
    queue.finish();
    expect(await drain(queue)).toEqual([2, 3]);
  });

  it('delivers buffered items before the finishing error, throws it once, then is done', async () => {
    const queue = new ChunkQueue<number>();
    queue.push([1]);
    const boom = new Error('boom');
    queue.finish(boom);
    expect(await queue.next()).toEqual({ done: false, value: 1 });
    await expect(queue.next()).rejects.toBe(boom);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('rejects a waiting consumer when finished with an error', async () => {
    const queue = new ChunkQueue<number>();
    const waiting = queue.next();
    const boom = new Error('boom');
    queue.finish(boom);
    await expect(waiting).rejects.toBe(boom);
  });

  it('close() drops buffered items and releases a waiting consumer', async () => {
    const queue = new ChunkQueue<number>();
    queue.push([1, 2]);
    queue.close();
    expect(queue.size).toBe(0);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
    const other = new ChunkQueue<number>();
    const waiting = other.next();
    other.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('ignores pushes after the end', async () => {
    const queue = new ChunkQueue<number>();
    queue.finish();
    queue.push([1]);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it('keeps order across compaction with a consumer far behind', async () => {
    const queue = new ChunkQueue<number>();
    const expected: number[] = [];
    let next = 0;
    const got: number[] = [];
    for (let round = 0; round < 50; round++) {
      const batch = Array.from({ length: 200 }, () => next++);
      expected.push(...batch);
      queue.push(batch);
      for (let index = 0; index < 150; index++) {
        const result = await queue.next();
        if (!result.done) got.push(result.value);
      }
    }
    queue.finish();
    got.push(...(await drain(queue)));
    expect(got).toEqual(expected);
  });

  it('refuses two concurrent waiters', async () => {
    const queue = new ChunkQueue<number>();
    const first = queue.next();
    await expect(queue.next()).rejects.toThrow(/single consumer/);
    queue.push([7]);
    expect(await first).toEqual({ done: false, value: 7 });
  });
});
