import { type StreamInfo, StreamstraightError } from '@ss/core/protocol';
import type { RelayServer, RelaySocket } from './relay-socket.js';
import type { StoreEvent, StreamStore } from '../store/stream-store.js';
import { EVENT, SharedCatchUpFrames } from './shared-catch-up-frames.js';
import type { ThrottledLog } from './throttled-log.js';

/** Chunks per catch-up read and per `stream:chunks` frame sent to a catching-up reader. */
const CATCH_UP_BATCH = 1024;
/** While the relay is saturated, live broadcasts wait this long, to leave event-loop turns to everything else. */
const SATURATED_FLUSH_MS = 100;
/** Largest catch-up frame, in characters of chunk data (one chunk may be larger), without a reader budget. */
const CATCH_UP_FRAME_CHARACTERS = 256 * 1024;

type ConsumerSocket = RelaySocket;

/** One reader's subscription to one stream. */
interface Subscription {
  socket: ConsumerSocket;
  streamId: string;
  /** The next seq this reader must get. */
  nextSeq: number;
  state: 'catching-up' | 'waiting' | 'live' | 'done';
}

/** The relay's view of one stream that has readers on this node. */
interface HubStream {
  streamId: string;
  /** The Socket.IO room of the readers that are at the tail; live chunks are encoded once for all of them. */
  room: string;
  /** The adapter's broadcast options for `room`, made once (`io.to(room)` makes new sets and operators per emit). */
  toRoom: { rooms: Set<string>; except: Set<string>; flags: Record<string, never> };
  /** The next seq to broadcast to the room. Everything below it is stored and was broadcast. */
  tail: number;
  ended: StreamInfo | undefined;
  subscriptions: Set<Subscription>;
  /** The one subscription of each reader connection (by socket id): a second subscribe replaces the first. */
  bySocket: Map<string, Subscription>;
  /** Readers whose `fromSeq` is beyond the tail; they join the room when the tail reaches them. */
  waiting: Set<Subscription>;
  unsubscribeStore: () => void;
  /** Store events that arrived while a gap was being filled from the store; null when idle. */
  backlog: StoreEvent[] | null;
  /**
   * Live chunks from `tail` on, stored but not broadcast yet: they go out together at the end of
   * this event-loop turn (one frame per stream per turn), so a relay that falls behind sends fewer,
   * larger frames instead of queueing one per chunk. Empty when nothing waits.
   */
  pending: Array<readonly string[]>;
  pendingCount: number;
}

/**
 * Fans a stream out to its readers. A new reader first catches up from the store, alone, up to
 * the broadcast tail; then it joins the stream's room and gets live chunks with everybody else.
 * Each reader therefore gets every chunk exactly once, in order: reads stop at the tail and the
 * room starts at it.
 */
export class StreamHub {
  private readonly streams = new Map<string, HubStream>();
  private readonly loading = new Map<string, Promise<HubStream>>();
  /** Catch-up reads in flight, by stream, seq and size: readers starting together share one store read. */
  private readonly reads = new Map<string, Promise<string[]>>();
  /** Streams with live chunks waiting for the end of this event-loop turn. */
  private readonly toFlush = new Set<HubStream>();
  private flushScheduled = false;

  /**
   * @param io - the Socket.IO server (rooms).
   * @param store - where chunks are read from.
   * @param throttledLog - for store failures.
   * @param readerBudgetBytes - each reader's `maxQueuedBytesPerReader`: a live frame larger than a quarter of it is not broadcast (every reader reads it from the store, paced), and catch-up frames are at most a sixteenth of it.
   * @param onPaced - told each time a reader moves to paced reads.
   * @param isSaturated - whether the relay is saturated now (live broadcasts are then spaced out).
   */
  constructor(
    private readonly io: RelayServer,
    private readonly store: StreamStore,
    private readonly throttledLog?: ThrottledLog,
    readerBudgetBytes?: number,
    private readonly onPaced?: () => void,
    private readonly isSaturated?: () => boolean,
  ) {
    this.maxBroadcastCharacters = readerBudgetBytes === undefined ? undefined : readerBudgetBytes / 4;
    this.catchUpFrameCharacters = readerBudgetBytes === undefined ? CATCH_UP_FRAME_CHARACTERS : Math.min(CATCH_UP_FRAME_CHARACTERS, readerBudgetBytes / 16);
    this.catchUpFrames = new SharedCatchUpFrames(io.encoder);
  }

  private readonly catchUpFrames: SharedCatchUpFrames;

  private readonly maxBroadcastCharacters: number | undefined;
  private readonly catchUpFrameCharacters: number;

  /** Number of streams with readers on this node. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Starts delivering `streamId` from `fromSeq` to `socket`. Call after the subscribe ack was sent.
   * A connection has at most one subscription per stream: this one replaces an earlier one of
   * the same socket (which gets nothing more), so a chunk never reaches a connection twice.
   * @returns a function that stops this subscription.
   */
  async subscribe(socket: ConsumerSocket, streamId: string, fromSeq: number): Promise<() => void> {
    const stream = await this.streamFor(streamId);
    const subscription: Subscription = { socket, streamId, nextSeq: fromSeq, state: 'catching-up' };
    // Added before the replaced one is removed, so the stream never drops to no subscriptions in between.
    const replaced = stream.bySocket.get(socket.id);
    stream.subscriptions.add(subscription);
    stream.bySocket.set(socket.id, subscription);
    if (replaced) this.remove(stream, replaced);
    void this.catchUp(stream, subscription);
    return () => this.remove(stream, subscription);
  }

  private async streamFor(streamId: string): Promise<HubStream> {
    const existing = this.streams.get(streamId);
    if (existing) return existing;
    const pending = this.loading.get(streamId);
    if (pending) return pending;
    const load = (async () => {
      const early: StoreEvent[] = [];
      let stream: HubStream | undefined;
      const unsubscribeStore = this.store.subscribe(streamId, (event) => {
        if (stream) this.onStoreEvent(stream, event);
        else early.push(event);
      });
      const info = await this.store.info(streamId).catch(() => undefined);
      stream = {
        streamId,
        room: `stream:${streamId}`,
        toRoom: { rooms: new Set([`stream:${streamId}`]), except: new Set(), flags: {} },
        tail: info ? info.lastSeq + 1 : 0,
        ended: info?.status === 'ended' ? info : undefined,
        subscriptions: new Set(),
        bySocket: new Map(),
        waiting: new Set(),
        unsubscribeStore,
        backlog: null,
        pending: [],
        pendingCount: 0,
      };
      this.streams.set(streamId, stream);
      this.loading.delete(streamId);
      for (const event of early) this.onStoreEvent(stream, event);
      return stream;
    })();
    this.loading.set(streamId, load);
    return load;
  }

  /**
   * `store.read`, shared by every catch-up asking for the same range at the same time (50 readers
   * opening a finished answer at once make one store read per batch, not 50). The result is only
   * read, never changed, by the callers.
   */
  private readShared(streamId: string, fromSeq: number, limit: number): Promise<string[]> {
    const key = `${fromSeq}:${limit}:${streamId}`;
    const pending = this.reads.get(key);
    if (pending) return pending;
    const read = this.store.read(streamId, fromSeq, limit).finally(() => this.reads.delete(key));
    this.reads.set(key, read);
    return read;
  }

  private async catchUp(stream: HubStream, subscription: Subscription): Promise<void> {
    const budget = subscription.socket.data.readerBudget;
    try {
      while (subscription.state === 'catching-up') {
        // Paced by the reader's drain: the next read waits until its queue has room, so a reader
        // that does not read holds at most its budget, never the stream read ahead.
        if (budget && !budget.hasRoom) {
          if (!(await budget.waitForRoom())) {
            this.remove(stream, subscription);
            return;
          }
          continue;
        }
        if (subscription.nextSeq >= stream.tail) break;
        const limit = Math.min(CATCH_UP_BATCH, stream.tail - subscription.nextSeq);
        const data = await this.readShared(stream.streamId, subscription.nextSeq, limit);
        if (subscription.state !== 'catching-up') return;
        if (data.length === 0) {
          // The store no longer has what the tail promises (expired or overwritten): nothing more to send.
          subscription.socket.emit('stream:error', {
            streamId: stream.streamId,
            code: 'STREAM_NOT_FOUND',
            message: `Stream "${stream.streamId}" is no longer stored (expired or replaced).`,
          });
          this.remove(stream, subscription);
          return;
        }
        // Frames of at most a sixteenth of the reader's budget (and at least one chunk); stop early
        // when the queue is full: the rest is read again once it drained.
        let start = 0;
        while (start < data.length) {
          let end = start;
          let size = 0;
          while (end < data.length && (end === start || size + data[end]!.length <= this.catchUpFrameCharacters)) size += data[end++]!.length;
          this.catchUpFrames.send(subscription.socket, stream.streamId, subscription.nextSeq, data, start, end);
          subscription.nextSeq += end - start;
          start = end;
          if (subscription.state !== 'catching-up' || (budget && !budget.hasRoom)) break;
        }
      }
    } catch (error) {
      this.throttledLog?.write('error', 'store:catch-up', { streamId: stream.streamId, err: error }, 'a reader\'s catch-up read failed; it was told to reconnect');
      // A typed store error (STREAM_CORRUPT, STORE_UNAVAILABLE…) travels as it is; anything else is transient.
      const typed = StreamstraightError.isInstance(error)
        ? error.toJSON()
        : { code: 'STORE_UNAVAILABLE' as const, message: `Reading stream "${stream.streamId}" failed; reconnect to resume.`, retryInMs: 1000 };
      subscription.socket.emit('stream:error', { streamId: stream.streamId, ...typed });
      this.remove(stream, subscription);
      return;
    }
    if (subscription.state !== 'catching-up') return;
    // Synchronously from here: the tail cannot move until this function returns.
    if (subscription.nextSeq === stream.tail) this.goLive(stream, subscription);
    else {
      subscription.state = 'waiting';
      stream.waiting.add(subscription);
      if (stream.ended) this.finish(stream, subscription);
    }
  }

  private goLive(stream: HubStream, subscription: Subscription): void {
    if (stream.ended) {
      this.finish(stream, subscription);
      return;
    }
    subscription.state = 'live';
    subscription.socket.join(stream.room);
  }

  private onStoreEvent(stream: HubStream, event: StoreEvent): void {
    if (stream.backlog) {
      stream.backlog.push(event);
      return;
    }
    if (event.type === 'chunks' && stream.pendingCount > 0 && event.seq === stream.tail + stream.pendingCount) {
      stream.pending.push(event.data);
      stream.pendingCount += event.data.length;
      return;
    }
    this.flushPending(stream);
    if (event.type === 'chunks') {
      if (event.seq > stream.tail) {
        // Missed a notification (possible with a remote store): fill the gap from the store first.
        stream.backlog = [event];
        void this.fillGap(stream, event.seq);
        return;
      }
      const skip = stream.tail - event.seq;
      if (skip >= event.data.length) return;
      stream.pending.push(skip === 0 ? event.data : event.data.slice(skip));
      stream.pendingCount = stream.pending[0]!.length;
      this.scheduleFlush(stream);
      return;
    }
    if (event.info.lastSeq >= stream.tail) {
      stream.backlog = [event];
      void this.fillGap(stream, event.info.lastSeq + 1);
      return;
    }
    stream.ended = event.info;
    this.io.to(stream.room).emit('stream:end', { streamId: stream.streamId, reason: event.info.endReason ?? 'completed', lastSeq: event.info.lastSeq });
    for (const subscription of stream.subscriptions) {
      if (subscription.state === 'live' || subscription.state === 'waiting') this.finish(stream, subscription, false);
    }
  }

  private scheduleFlush(stream: HubStream): void {
    this.toFlush.add(stream);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const flush = () => {
      this.flushScheduled = false;
      const streams = [...this.toFlush];
      this.toFlush.clear();
      for (const waiting of streams) this.flushPending(waiting);
    };
    // Saturated: broadcast at most every SATURATED_FLUSH_MS, so the turns in between are free for
    // handshakes, acks and HTTP (and each broadcast carries more chunks).
    if (this.isSaturated?.()) setTimeout(flush, SATURATED_FLUSH_MS);
    else setImmediate(flush);
  }

  /** Broadcasts the live chunks waiting for the end of the turn (see `HubStream.pending`). */
  private flushPending(stream: HubStream): void {
    if (stream.pendingCount === 0) return;
    const parts = stream.pending;
    stream.pending = [];
    stream.pendingCount = 0;
    this.broadcast(stream, parts.length === 1 ? parts[0]! : parts.flat());
  }

  private async fillGap(stream: HubStream, upTo: number): Promise<void> {
    try {
      while (stream.tail < upTo) {
        const data = await this.store.read(stream.streamId, stream.tail, Math.min(CATCH_UP_BATCH, upTo - stream.tail));
        if (data.length === 0) break;
        this.broadcast(stream, data);
      }
    } catch (error) {
      this.throttledLog?.write('warn', 'store:fill-gap', { streamId: stream.streamId, err: error }, 'filling a gap in the live feed failed; readers resume from their lastSeq');
      // Leave the rest to the backlog below; readers can always resume from their lastSeq.
    }
    const backlog = stream.backlog ?? [];
    stream.backlog = null;
    for (const event of backlog) this.onStoreEvent(stream, event);
  }

  /**
   * Moves a live (or waiting) reader of `streamId` on `socket` back to reads paced by its drain,
   * from the tail: it fell behind (its queue is over half its budget), so live chunks stop going
   * into its queue. It rejoins the room once it caught up.
   * @returns whether a reader was moved.
   */
  fallBehind(socket: ConsumerSocket, streamId: string): boolean {
    const stream = this.streams.get(streamId);
    const subscription = stream?.bySocket.get(socket.id);
    if (!stream || !subscription || (subscription.state !== 'live' && subscription.state !== 'waiting')) return false;
    this.pace(stream, subscription);
    return true;
  }

  /** @param sentUpTo - the tail the room was sent up to (a live reader has everything below it). */
  private pace(stream: HubStream, subscription: Subscription, sentUpTo = stream.tail): void {
    if (subscription.state === 'live') {
      subscription.socket.leave(stream.room);
      subscription.nextSeq = sentUpTo;
    }
    stream.waiting.delete(subscription);
    subscription.state = 'catching-up';
    this.onPaced?.();
    void this.catchUp(stream, subscription);
  }

  private broadcast(stream: HubStream, data: readonly string[]): void {
    if (this.maxBroadcastCharacters !== undefined && stream.subscriptions.size > 0) {
      let size = 0;
      for (const chunk of data) size += chunk.length;
      if (size > this.maxBroadcastCharacters) {
        // Too large to put in every reader's queue at once: each reader reads it from the store,
        // in frames paced by its own drain. It is stored, so nothing is lost.
        const sentUpTo = stream.tail;
        stream.tail += data.length;
        for (const subscription of [...stream.subscriptions]) {
          if (subscription.state === 'live' || (subscription.state === 'waiting' && subscription.nextSeq < stream.tail)) this.pace(stream, subscription, sentUpTo);
        }
        return;
      }
    }
    const seq = stream.tail;
    stream.tail += data.length;
    // What `io.to(room).emit()` does, without its per-call sets and operators (live chunks are the hot path).
    this.io.sockets.adapter.broadcast({ type: EVENT, data: ['stream:chunks', { streamId: stream.streamId, seq, data }] }, stream.toRoom);
    if (stream.waiting.size === 0) return;
    for (const subscription of stream.waiting) {
      if (subscription.nextSeq >= stream.tail) continue;
      const from = subscription.nextSeq - seq;
      subscription.socket.emit('stream:chunks', { streamId: stream.streamId, seq: subscription.nextSeq, data: data.slice(from) as string[] });
      subscription.nextSeq = stream.tail;
      stream.waiting.delete(subscription);
      this.goLive(stream, subscription);
    }
  }

  /** Sends the end to one reader (unless the room already got it) and drops the subscription. */
  private finish(stream: HubStream, subscription: Subscription, sendEnd = true): void {
    const info = stream.ended!;
    if (sendEnd) subscription.socket.emit('stream:end', { streamId: stream.streamId, reason: info.endReason ?? 'completed', lastSeq: info.lastSeq });
    this.remove(stream, subscription);
  }

  private remove(stream: HubStream, subscription: Subscription): void {
    if (subscription.state === 'done') return;
    if (subscription.state === 'live') subscription.socket.leave(stream.room);
    subscription.state = 'done';
    stream.subscriptions.delete(subscription);
    if (stream.bySocket.get(subscription.socket.id) === subscription) stream.bySocket.delete(subscription.socket.id);
    stream.waiting.delete(subscription);
    if (stream.subscriptions.size === 0 && this.streams.get(stream.streamId) === stream) {
      stream.unsubscribeStore();
      this.streams.delete(stream.streamId);
    }
  }
}
