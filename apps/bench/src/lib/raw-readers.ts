/**
 * The shared part of the raw live readers (`ss.raw-read-live`, `ss.raw-read-live-sse`,
 * `ds.raw-read-live`): the load generators of the live and fan-out scenarios that speak just enough
 * of each system's read protocol to timestamp chunks, so many hundreds of readers fit in one
 * process and the benchmark measures the server rather than its readers.
 *
 * {@link LiveTally} counts what arrives; {@link runLiveReaders} runs one connection per reader,
 * reopens a lost one from where its reader is (as the client libraries do), signals `ready` once
 * every reader is subscribed and returns when every stream ended or on `stop`.
 */
import { Histogram, type HistogramData } from './histogram.js';
import { sleep } from './stats.js';
import type { TaskContext } from './worker-context.js';

/** What a live reader task returns (the contract of `scenarios/live-delivery.ts`). */
export interface LiveReadResult {
  histogram: HistogramData;
  /** Measured chunks received (sent after the warm-up), each once. */
  received: number;
  /** When the last measured chunk arrived (µs, {@link nowUs}). */
  lastAt: number;
  /** Chunks that did not come right after the previous one of their reader (a gap, a duplicate, a chunk out of order). */
  sequenceErrors: number;
  /** Connections lost mid-stream and opened again (each resumes after its reader's last chunk). */
  reconnects: number;
}

/** One process's count of what its readers received. */
export class LiveTally {
  readonly histogram = new Histogram();
  received = 0;
  lastAt = 0;
  sequenceErrors = 0;
  reconnects = 0;

  /**
   * One chunk arrived at `now`: its latency and arrival are counted when it was sent after the
   * warm-up (as every reader of the harness counts).
   * @param chunk - a `timedChunk`, bare or as the JSON string the relay carries (`"123|m…"`).
   */
  chunk(chunk: string, now: number): void {
    const start = chunk.charCodeAt(0) === 34 /* '"' */ ? 1 : 0;
    const bar = chunk.indexOf('|', start);
    if (chunk.charCodeAt(bar + 1) !== 109 /* 'm' */) return;
    this.histogram.record(now - Number(chunk.slice(start, bar)));
    this.received++;
    this.lastAt = now;
  }

  /** The task's result (the worker adds its process's CPU time, `workerCpuMs`). */
  result(): LiveReadResult {
    return {
      histogram: this.histogram.toJSON(),
      received: this.received,
      lastAt: this.lastAt,
      sequenceErrors: this.sequenceErrors,
      reconnects: this.reconnects,
    };
  }
}

/**
 * The position of one reader in its stream: `take(seq, count)` judges a run of `count` chunks
 * starting at `seq`. A run that does not start at `next` is a sequence error (counted on the
 * tally); the chunks before `next` (a duplicate) are not new. Returns how many of the run's last
 * chunks are new, and moves past the run.
 */
export class SeqCheck {
  constructor(
    private readonly tally: LiveTally,
    public next = 0,
  ) {}

  take(seq: number, count: number): number {
    if (seq !== this.next) this.tally.sequenceErrors++;
    const fresh = Math.max(0, Math.min(count, seq + count - this.next));
    this.next = Math.max(this.next, seq + count);
    return fresh;
  }

  /** The stream ended at `lastSeq`: chunks this reader never got are a sequence error. */
  end(lastSeq: number): void {
    if (this.next <= lastSeq) this.tally.sequenceErrors++;
  }
}

/** One open connection of a reader. */
export interface ReaderConnection {
  /** Resolves when the connection is gone, with why (shown when a reader gives up). */
  readonly closed: Promise<string>;
  close(): void;
}

/** What a connection tells its reader. */
export interface ReaderHooks {
  /** Subscribed: chunks written from now on will arrive. */
  live(): void;
  /** The stream ended and every chunk arrived (or was counted missing): the reader is done. */
  ended(): void;
}

/** Opens one connection for a reader, reading from where the reader is. */
export type ConnectReader = (hooks: ReaderHooks) => ReaderConnection;

/** Attempts in a row (each 500 ms apart) before a reader that never got live gives up. */
const MAX_FAILED_CONNECTS = 20;

/**
 * Runs one reader per entry of `readers` until every stream ended or the harness says `stop`.
 * Emits `ready` once every reader is subscribed. A connection lost before the end is opened again
 * (counted in `reconnects` when the reader had been live); a reader that cannot get live in
 * {@link MAX_FAILED_CONNECTS} attempts fails the task.
 */
export async function runLiveReaders(readers: ConnectReader[], tally: LiveTally, context: TaskContext): Promise<LiveReadResult> {
  const open = new Set<ReaderConnection>();
  let stopped = false;
  let subscribed = 0;
  const follow = async (connect: ConnectReader) => {
    let wasLive = false;
    let ended = false;
    let failures = 0;
    for (;;) {
      let connection: ReaderConnection | undefined;
      let liveNow = false;
      const hooks: ReaderHooks = {
        live() {
          liveNow = true;
          if (wasLive) return;
          wasLive = true;
          if (++subscribed === readers.length) context.emit('ready');
        },
        ended() {
          if (!wasLive) hooks.live();
          ended = true;
          connection?.close();
        },
      };
      connection = connect(hooks);
      open.add(connection);
      const reason = await connection.closed;
      open.delete(connection);
      if (stopped || ended) return;
      if (liveNow) failures = 0;
      if (++failures > MAX_FAILED_CONNECTS) throw new Error(`a reader gave up after ${MAX_FAILED_CONNECTS} failed connects: ${reason}`);
      if (wasLive) tally.reconnects++;
      await sleep(liveNow ? 0 : 500);
      if (stopped) return;
    }
  };
  const all = Promise.all(readers.map(follow));
  await Promise.race([context.waitFor('stop'), all]);
  stopped = true;
  for (const connection of open) connection.close();
  return tally.result();
}
