/**
 * Runs tasks one after another per key (a stream id), so a producer's frames for one stream are
 * stored in the order they arrived even though each store call is asynchronous. Different keys
 * run concurrently. An array per busy key, nothing per idle key.
 */
export class KeyedSerialQueue {
  private readonly queues = new Map<string, Array<() => Promise<void>>>();

  /** Queues `task` behind the tasks already queued for `key`. `task` must not throw. */
  run(key: string, task: () => Promise<void>): void {
    const queue = this.queues.get(key);
    if (queue) {
      queue.push(task);
      return;
    }
    const fresh = [task];
    this.queues.set(key, fresh);
    void this.drain(key, fresh);
  }

  /** Keys with queued work. */
  get size(): number {
    return this.queues.size;
  }

  private async drain(key: string, queue: Array<() => Promise<void>>): Promise<void> {
    while (queue.length > 0) {
      try {
        await queue[0]!();
      } catch {
        // Tasks report their own errors; one failing task must not stall the stream.
      }
      queue.shift();
    }
    this.queues.delete(key);
  }
}
