import { type StreamInfo, StreamstraightError } from '@ss/core/protocol';
import type { StoreEvent, StreamStore } from '../store/stream-store.js';

/** Chunks per catch-up read. */
const READ_BATCH = 1024;

/** Where a {@link StreamFollower} delivers. Each method is called in order, never after the follower stopped. */
export interface FollowerSink {
  /** Consecutive chunks `seq`, `seq + 1`, …: each chunk exactly once, in order. */
  chunks(seq: number, data: readonly string[]): void;
  /** The stream ended after every chunk was delivered. The last call. */
  end(info: StreamInfo): void;
  /** Reading failed (the store lost the stream, or is unavailable). The last call. */
  error(error: StreamstraightError): void;
  /**
   * Resolves when the sink wants more catch-up data (its queue drained). Live chunks are pushed
   * regardless: a sink bounds its own queue.
   */
  ready(): Promise<void>;
}

/**
 * Follows one stream for one HTTP reader, from `fromSeq`: stored chunks first (read at the sink's
 * pace), then live ones from the store's events, then the end. Every chunk is delivered exactly
 * once and in order: a live event that does not start at the next seq (a missed notification, or
 * events that arrive during a catch-up read) sends the follower back to the store, which it reads
 * until it holds nothing more.
 */
export class StreamFollower {
  private nextSeq: number;
  private state: 'reading' | 'live' | 'stopped' = 'reading';
  /** An event arrived during a store read: read again before going live. */
  private dirty = false;
  private ended: StreamInfo | undefined;
  private readonly unsubscribe: () => void;

  /**
   * Subscribes to the store at once (so nothing stored from now on is missed) and starts reading.
   * @param store - where the stream lives.
   * @param info - the stream's state when the request came (it exists).
   * @param fromSeq - the first chunk to deliver.
   * @param sink - where chunks, the end or an error go.
   */
  constructor(
    private readonly store: StreamStore,
    private readonly info: StreamInfo,
    fromSeq: number,
    private readonly sink: FollowerSink,
  ) {
    this.nextSeq = fromSeq;
    if (info.status === 'ended') this.ended = info;
    this.unsubscribe = store.subscribe(info.streamId, (event) => this.onEvent(event));
    void this.read();
  }

  /** Whether {@link stop} ran (a getter: the state changes across awaits). */
  private get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** Stops following (the reader went away). Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.unsubscribe();
  }

  private onEvent(event: StoreEvent): void {
    if (this.state === 'stopped') return;
    if (event.type === 'end') this.ended = event.info;
    if (this.state === 'reading') {
      this.dirty = true;
      return;
    }
    if (event.type === 'chunks') {
      if (event.seq > this.nextSeq) {
        // A chunk before this one was not seen live: read the missing part from the store.
        this.state = 'reading';
        void this.read();
        return;
      }
      const skip = this.nextSeq - event.seq;
      if (skip >= event.data.length) return;
      const data = skip === 0 ? event.data : event.data.slice(skip);
      this.sink.chunks(this.nextSeq, data);
      this.nextSeq += data.length;
      return;
    }
    this.finishOrRead();
  }

  /** Once the end is known: finish when every chunk was delivered, else read the rest. */
  private finishOrRead(): void {
    const ended = this.ended;
    if (!ended) return;
    if (this.nextSeq > ended.lastSeq) {
      this.stop();
      this.sink.end(ended);
      return;
    }
    this.state = 'reading';
    void this.read();
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        this.dirty = false;
        const data = await this.store.read(this.info.streamId, this.nextSeq, READ_BATCH);
        if (this.stopped) return;
        if (data.length > 0) {
          this.sink.chunks(this.nextSeq, data);
          this.nextSeq += data.length;
          await this.sink.ready();
          if (this.stopped) return;
          continue;
        }
        if (this.dirty) continue;
        const ended = this.ended;
        if (ended && this.nextSeq <= ended.lastSeq) {
          throw new StreamstraightError(
            'STREAM_NOT_FOUND',
            `Stream ${JSON.stringify(this.info.streamId)} is no longer stored from chunk ${this.nextSeq} on (it expired or was replaced).`,
          );
        }
        break;
      }
    } catch (error) {
      if (this.state === 'stopped') return;
      this.stop();
      this.sink.error(
        StreamstraightError.isInstance(error)
          ? error
          : new StreamstraightError('STORE_UNAVAILABLE', `Reading stream ${JSON.stringify(this.info.streamId)} failed; reconnect to resume.`, {
              cause: error,
              retryInMs: 1000,
            }),
      );
      return;
    }
    // Synchronously from the last empty read: no event can slip in between.
    this.state = 'live';
    this.finishOrRead();
  }
}
