// Checks on what a StreamStore gives its callers: typed errors and the events of `subscribe`.
import { StreamstraightError } from '@ss/core/protocol';
import { expect } from 'vitest';
import type { StoreEvent } from '../../src/store/stream-store.js';

/** The StreamstraightError `promise` rejects with; fails when it resolves or throws anything else. */
export async function caught(promise: Promise<unknown>): Promise<StreamstraightError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!StreamstraightError.isInstance(error)) throw new Error(`expected a StreamstraightError, got ${String(error)}`);
  return error;
}

/** Checks that `events` are consecutive chunk events from seq 0 and returns their data. */
export function chunksOf(events: StoreEvent[]): string[] {
  const data: string[] = [];
  for (const event of events) {
    if (event.type !== 'chunks') continue;
    expect(event.seq, 'chunk events are consecutive, never overlapping').toBe(data.length);
    data.push(...event.data);
  }
  return data;
}
