import type { RelayMetrics } from './relay-metrics.js';

/** Why a reader was dropped: too many bytes queued, or bytes queued with no progress for too long. */
export type SlowReaderReason = 'maxQueuedBytesPerReader' | 'slowReaderTimeoutMs';

/** The bounds one reader's output is held to. */
export interface ReaderBudgetLimits {
  /** Bytes queued for the reader (our queues + the transport's) past which it is dropped. */
  maxQueuedBytes: number;
  /** A reader with bytes queued and no progress for this long is dropped. */
  stallTimeoutMs: number;
}

/**
 * What one reader's transport tells its budget. A Socket.IO reader is wired by
 * `watchSocketReader`; an SSE reader wires its `ServerResponse` the same way:
 *
 * ```ts
 * const budget = budgets.create({ queuedBytes: () => response.writableLength, drop: (reason) => endWithSlowReader(reason) })
 * response.write(frame); budget.noteQueued()          // after every write
 * response.on('drain', () => budget.noteProgress())   // the transport handed bytes to the network
 * if (!(await budget.waitForRoom())) return            // before each catch-up page: false once dropped
 * response.on('close', () => budget.close())
 * ```
 */
export interface ReaderTransport {
  /** Bytes queued for the reader right now, not yet handed to the network. Cheap: called after writes. */
  queuedBytes(): number;
  /** Drops the reader (close the connection, telling it `SLOW_READER` if it can still hear it). Called once. */
  drop(reason: SlowReaderReason, queuedBytes: number): void;
}

/**
 * One reader's output budget: the relay never queues more than `maxQueuedBytes` for it (checked
 * once the writes of the current turn have settled, so a burst a fast reader takes at once does
 * not count), never keeps it when its queue makes no progress for `stallTimeoutMs`, and lets
 * catch-up reads go on only while the queue is below a quarter of the bound (`waitForRoom`).
 * A live reader whose queue passes half the bound is told through `onBehind`, so its sender can
 * move it back to reads paced by the drain instead of queueing more.
 */
export class ReaderBudget {
  /** Set once the reader was dropped or closed. */
  closed = false;
  private lastProgressAt = Date.now();
  private lastSweepQueued = 0;
  private checkScheduled = false;
  private roomWaiters: Array<(room: boolean) => void> = [];
  private behindListeners: Array<() => void> = [];

  constructor(
    private readonly transport: ReaderTransport,
    private readonly limits: ReaderBudgetLimits,
    private readonly registry: ReaderBudgets,
  ) {}

  /** Bytes queued for the reader now. */
  get queuedBytes(): number {
    return this.closed ? 0 : this.transport.queuedBytes();
  }

  /** Whether a catch-up read may go on now: the queue is below a quarter of the bound. */
  get hasRoom(): boolean {
    return this.queuedBytes <= this.limits.maxQueuedBytes / 4;
  }

  /** Call after bytes were queued for the reader: the bound is checked once this turn's writes settled. */
  noteQueued(): void {
    if (this.checkScheduled || this.closed) return;
    if (this.transport.queuedBytes() <= this.limits.maxQueuedBytes / 2) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      this.checkBytes();
    });
  }

  /** Call when the transport handed queued bytes to the network (a write completed, a drain). */
  noteProgress(): void {
    this.lastProgressAt = Date.now();
    if (this.roomWaiters.length > 0 && this.hasRoom) this.release(true);
  }

  /**
   * Resolves once the queue is below a quarter of the bound (at once when it is): `true`, or
   * `false` when the reader was dropped or closed meanwhile. For reads paced by the drain.
   */
  waitForRoom(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.hasRoom) return Promise.resolve(true);
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** `listener` runs whenever the queue passed half the bound (the reader is behind the live tail). */
  onBehind(listener: () => void): void {
    this.behindListeners.push(listener);
  }

  /** Stops watching (the reader left). Pending `waitForRoom` calls resolve `false`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release(false);
    this.behindListeners = [];
    this.registry.forget(this);
  }

  /** The registry's periodic look: stalls, and waiters whose room came without a progress event. */
  sweep(now: number): number {
    if (this.closed) return 0;
    const queued = this.transport.queuedBytes();
    // An empty queue, or a smaller one than at the last look, means bytes left: progress.
    if (queued === 0 || queued < this.lastSweepQueued) this.lastProgressAt = now;
    else if (now - this.lastProgressAt >= this.limits.stallTimeoutMs) {
      this.drop('slowReaderTimeoutMs', queued);
      return queued;
    }
    this.lastSweepQueued = queued;
    if (this.roomWaiters.length > 0 && queued <= this.limits.maxQueuedBytes / 4) this.release(true);
    return queued;
  }

  private checkBytes(): void {
    if (this.closed) return;
    const queued = this.transport.queuedBytes();
    if (queued > this.limits.maxQueuedBytes) this.drop('maxQueuedBytesPerReader', queued);
    else if (queued > this.limits.maxQueuedBytes / 2) for (const listener of this.behindListeners) listener();
  }

  private drop(reason: SlowReaderReason, queued: number): void {
    this.registry.noteDrop(reason);
    this.close();
    this.transport.drop(reason, queued);
  }

  private release(room: boolean): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve(room);
  }
}

/**
 * Every reader budget of a relay, with one timer for all of them (stall checks and the
 * queued-bytes histogram), never one per reader.
 */
export class ReaderBudgets {
  private readonly budgets = new Set<ReaderBudget>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly limits: ReaderBudgetLimits,
    private readonly metrics: RelayMetrics,
  ) {}

  /** Readers being watched. */
  get size(): number {
    return this.budgets.size;
  }

  /**
   * Starts watching one reader.
   * @param transport - how to measure its queue and how to drop it.
   * @returns its budget; `close()` it when the reader leaves.
   */
  create(transport: ReaderTransport): ReaderBudget {
    const budget = new ReaderBudget(transport, this.limits, this);
    this.budgets.add(budget);
    if (!this.timer) {
      const interval = Math.max(10, Math.min(1000, Math.floor(this.limits.stallTimeoutMs / 4)));
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
    return budget;
  }

  /** Stops the timer; budgets still open are closed. */
  close(): void {
    for (const budget of [...this.budgets]) budget.close();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** @internal */
  forget(budget: ReaderBudget): void {
    this.budgets.delete(budget);
    if (this.budgets.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** @internal */
  noteDrop(reason: SlowReaderReason): void {
    this.metrics.limitRefusals.inc({ limit: reason });
  }

  private sweep(): void {
    const now = Date.now();
    let total = 0;
    for (const budget of this.budgets) {
      const queued = budget.sweep(now);
      total += queued;
      this.metrics.readerQueuedBytes.observe(queued);
    }
    this.metrics.queuedBytesTotal = total;
  }
}
