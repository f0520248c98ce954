import type { StoreEvent, StreamStore } from '../store/stream-store.js';

/**
 * One live reader's subscription to a stream: the store's events, queued until the reader takes
 * them, so a live SSE response writes what the store announced without reading it back. Bounded:
 * past `maxBytes` of queued chunk data the queue is dropped and marked `overflowed`, and the reader
 * reads from the store instead (nothing is lost — the store has it).
 */
export class LiveFeed {
  private events: StoreEvent[] = [];
  private bytes = 0;
  private overflowed = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    store: StreamStore,
    streamId: string,
    private readonly maxBytes: number,
  ) {
    this.unsubscribe = store.subscribe(streamId, (event) => this.push(event));
  }

  private push(event: StoreEvent): void {
    if (!this.overflowed) {
      if (event.type === 'chunks') for (const chunk of event.data) this.bytes += chunk.length;
      if (this.bytes > this.maxBytes) {
        this.overflowed = true;
        this.events = [];
        this.bytes = 0;
      } else {
        this.events.push(event);
      }
    }
    this.wake?.();
  }

  /** The queued events (and whether some were dropped), emptying the queue. */
  take(): { events: StoreEvent[]; overflowed: boolean } {
    const taken = { events: this.events, overflowed: this.overflowed };
    this.events = [];
    this.bytes = 0;
    this.overflowed = false;
    return taken;
  }

  /** Resolves when an event is queued (at once if one is), after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<'changed' | 'timeout' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.events.length > 0 || this.overflowed) return Promise.resolve('changed');
    return new Promise((resolve) => {
      const finish = (outcome: 'changed' | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(outcome);
      };
      const onAbort = () => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort);
      this.wake = () => finish('changed');
    });
  }

  close(): void {
    this.unsubscribe();
    this.wake = undefined;
  }
}
