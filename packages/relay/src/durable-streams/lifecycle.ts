/** Finding a stream for the face (with its TTL and expiry applied), touching it, and deleting it with its fork references. */
import type { StreamStore } from '../store/stream-store.js';
import { FIELD, type StreamView, isExpired, viewOf } from './stream-config.js';

/** A stream the face looked up. */
export type Lookup =
  | { state: 'missing' }
  /** Deleted (or expired) while forks still read it: 410 for everything on its URL. */
  | { state: 'gone'; view: StreamView }
  | { state: 'live'; view: StreamView };

/**
 * Looks a stream up. An expired stream is removed on the spot (or soft-deleted when forks still
 * reference it), so every relay of a shared Redis agrees on expiry without a sweeper of its own.
 */
export async function lookUp(store: StreamStore, streamId: string, now = Date.now()): Promise<Lookup> {
  const description = await store.describe(streamId);
  if (!description) return { state: 'missing' };
  const view = viewOf(description);
  if (view.softDeleted) return { state: 'gone', view };
  if (isExpired(view, now)) {
    if (view.references > 0) {
      await store.setMetadata(streamId, { [FIELD.softDeleted]: '1' });
      return { state: 'gone', view: { ...view, softDeleted: true } };
    }
    await removeStream(store, view);
    return { state: 'missing' };
  }
  return { state: 'live', view };
}

/** Resets a TTL stream's idle clock (reads and writes do; HEAD does not). */
export async function touch(store: StreamStore, view: StreamView, now = Date.now()): Promise<void> {
  if (view.ttlSeconds !== undefined) await store.setMetadata(view.streamId, { [FIELD.accessedAt]: String(now) });
}

/**
 * Deletes a stream: soft when forks still reference it, else for good — and then the stream it
 * was forked from loses a reference, and goes too when it was soft-deleted and that was its last
 * (up the chain).
 * @returns `soft` or `deleted`.
 */
export async function removeStream(store: StreamStore, view: StreamView): Promise<'soft' | 'deleted'> {
  if (view.references > 0) {
    await store.setMetadata(view.streamId, { [FIELD.softDeleted]: '1' });
    return 'soft';
  }
  await store.delete(view.streamId);
  let parentId = view.forkedFrom;
  while (parentId !== undefined) {
    const left = await store.incrementMetadata(parentId, FIELD.references, -1);
    if (left === undefined || left > 0) return 'deleted';
    const parent = await store.describe(parentId);
    if (!parent) return 'deleted';
    const parentView = viewOf(parent);
    if (!parentView.softDeleted) return 'deleted';
    await store.delete(parentId);
    parentId = parentView.forkedFrom;
  }
  return 'deleted';
}
