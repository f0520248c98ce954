/**
 * A single-consumer FIFO between Socket.IO event handlers (which push) and the async iterator
 * (which pulls). Pushing never allocates a promise: a promise exists only while the consumer is
 * waiting on an empty queue. Items are kept in one array read from a moving head index, compacted
 * now and then, so a consumer that is far behind costs one array slot per chunk.
 */
export class ChunkQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private waiter: { resolve: (result: IteratorResult<T, undefined>) => void; reject: (error: unknown) => void } | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;

  /** Items waiting to be pulled. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Whether {@link finish} or {@link close} was called. */
  get isFinished(): boolean {
    return this.finished;
  }

  /**
   * Appends items in order; ignored once the queue is finished.
   * @param items - the items to append.
   */
  push(items: readonly T[]): void {
    if (this.finished || items.length === 0) return;
    let start = 0;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      start = 1;
      waiter.resolve({ done: false, value: items[0] as T });
    }
    for (let index = start; index < items.length; index++) this.items.push(items[index]);
  }

  /**
   * Ends the queue after the items already in it: the consumer gets them, then `done` — or, with
   * `error`, a rejection (once), then `done`.
   * @param error - the error the consumer sees after the last item, if any.
   */
  finish(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (error !== undefined) this.failure = { error };
    if (this.waiter && this.size === 0) this.settleWaiter();
  }

  /** Ends the queue at once, dropping the items in it; a waiting consumer gets `done`. */
  close(): void {
    this.finished = true;
    this.failure = undefined;
    this.items = [];
    this.head = 0;
    if (this.waiter) this.settleWaiter();
  }

  /**
   * Takes the oldest buffered item without a promise. Check {@link size} first: it must be > 0.
   * @returns the item.
   */
  shift(): T {
    const value = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head++;
    this.compact();
    return value;
  }

  /**
   * The next item, `done` after the end, or the finishing error (once).
   * @returns a promise of the next iterator result.
   */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.head < this.items.length) return Promise.resolve({ done: false, value: this.shift() });
    if (this.finished) {
      const failure = this.failure;
      this.failure = undefined;
      return failure ? Promise.reject(failure.error) : Promise.resolve({ done: true, value: undefined });
    }
    if (this.waiter) return Promise.reject(new Error('ChunkQueue has a single consumer: await each next() before the following one.'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    const failure = this.failure;
    this.failure = undefined;
    if (failure) waiter.reject(failure.error);
    else waiter.resolve({ done: true, value: undefined });
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
