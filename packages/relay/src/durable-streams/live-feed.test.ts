import { describe, expect, it } from 'vitest';
import { memoryStore } from '../store/memory-store.js';
import { LiveFeed } from './live-feed.js';

describe('LiveFeed', () => {
  it('queues the store events of its stream until taken, and wakes a waiter', async () => {
    const store = memoryStore();
    await store.create('s', { metadata: {} });
    const feed = new LiveFeed(store, 's', 1000);
    const waiting = feed.wait(5_000, new AbortController().signal);
    await store.appendAtTail('s', { data: ['a', 'b'] });
    expect(await waiting).toBe('changed');
    await store.appendAtTail('s', { data: ['c'], end: 'completed' });
    expect(feed.take()).toEqual({
      overflowed: false,
      events: [
        { type: 'chunks', streamId: 's', seq: 0, data: ['a', 'b'] },
        { type: 'chunks', streamId: 's', seq: 2, data: ['c'] },
        { type: 'end', streamId: 's', info: { streamId: 's', status: 'ended', lastSeq: 2, endReason: 'completed' } },
      ],
    });
    expect(feed.take().events).toEqual([]);
    feed.close();
    await store.close();
  });

  it('drops its queue past maxBytes and says so (the reader then reads the store); times out and aborts', async () => {
    const store = memoryStore();
    await store.create('s', { metadata: {} });
    const feed = new LiveFeed(store, 's', 10);
    await store.appendAtTail('s', { data: ['123456'] });
    await store.appendAtTail('s', { data: ['7890123'] });
    expect(feed.take()).toEqual({ events: [], overflowed: true });
    expect(feed.take()).toEqual({ events: [], overflowed: false });
    expect(await feed.wait(20, new AbortController().signal)).toBe('timeout');
    const controller = new AbortController();
    const waiting = feed.wait(5_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe('aborted');
    feed.close();
    await store.appendAtTail('s', { data: ['x'] });
    expect(feed.take().events).toEqual([]); // closed: no longer subscribed
    await store.close();
  });
});
