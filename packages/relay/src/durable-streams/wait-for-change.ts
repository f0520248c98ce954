import type { StreamStore } from '../store/stream-store.js';

/** Why {@link waitForChange} returned. */
export type WaitOutcome = 'changed' | 'timeout' | 'aborted';

/**
 * Waits until stream `streamId` has a chunk at or past `tail`, ends, or disappears — or `timeoutMs`
 * passes, or `signal` aborts. Subscribes first and then checks the stored state, so a write made
 * between the caller's last read and this call is not missed.
 */
export function waitForChange(store: StreamStore, streamId: string, tail: number, timeoutMs: number, signal: AbortSignal): Promise<WaitOutcome> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: WaitOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish('aborted');
    const unsubscribe = store.subscribe(streamId, () => finish('changed'));
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    signal.addEventListener('abort', onAbort);
    store.info(streamId).then(
      (info) => {
        if (!info || info.lastSeq + 1 > tail || info.status === 'ended') finish('changed');
      },
      () => {},
    );
  });
}
