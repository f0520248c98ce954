import type { EndReason, StreamInfo } from '@ss/core/protocol';
import type { StoreEvent } from './stream-store.js';

type Listener = (event: StoreEvent) => void;

/** A stream's metadata as the feeds need it. */
export interface FeedMeta {
  info: StreamInfo;
  /** The stream's generation: grows when its id is reused (overwrite, or a new stream after expiry). */
  gen: number;
}

/** What the feeds read from Redis (through the store's command connection). */
export interface FeedSource {
  readMeta(streamId: string): Promise<FeedMeta | undefined>;
  read(streamId: string, fromSeq: number, limit: number): Promise<string[]>;
  channelOf(streamId: string): string;
}

/**
 * The Pub/Sub connection the feeds use: an ioredis `Redis` with `autoResubscribe: false`, or the
 * store's `ClusterPubSub` on a Redis Cluster. It emits `ready` after every (re)connect.
 */
export interface PubSubConnection {
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** One stream followed by this store: its listeners and what they have been given. */
interface Feed {
  streamId: string;
  channel: string;
  listeners: Set<Listener>;
  /** The generation the listeners are following; undefined until known. */
  gen: number | undefined;
  /** The next seq the listeners must get: everything below it was delivered (or predates the subscription). */
  next: number;
  endSent: boolean;
  /** Every step of this feed runs in order, one at a time. */
  chain: Promise<void>;
}

/** Largest catch-up read. */
const FILL_BATCH = 1024;

const ignore = () => {};

/**
 * Live delivery for the Redis store: one subscriber connection per store, one Pub/Sub channel
 * per followed stream (SUBSCRIBE when the first listener comes, UNSUBSCRIBE when the last goes).
 *
 * Each feed remembers the next seq its listeners need, so whatever the source — a notification
 * with the data inline, a notification with only `{seq, count}`, this store's own append, or a
 * catch-up after the subscriber reconnected — listeners get every chunk once, in order, and the
 * end once. A notification that arrives after a gap (one was lost while the subscriber
 * reconnected) is preceded by an XRANGE of the missing part.
 */
export class RedisFeeds {
  private readonly feeds = new Map<string, Feed>();

  constructor(
    private readonly subscriber: PubSubConnection,
    private readonly source: FeedSource,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    // Pub/Sub loses messages while disconnected: after every (re)connect, subscribe again and
    // catch up from the stored state. (autoResubscribe is off so that this order is ours.)
    subscriber.on('ready', () => this.resubscribe());
  }

  /** Number of streams followed. */
  get size(): number {
    return this.feeds.size;
  }

  /**
   * Calls `listener` for every append and end of `streamId` stored from now on.
   * @returns the unsubscribe.
   */
  subscribe(streamId: string, listener: Listener): () => void {
    const channel = this.source.channelOf(streamId);
    let feed = this.feeds.get(channel);
    if (!feed) {
      const created: Feed = { streamId, channel, listeners: new Set(), gen: undefined, next: 0, endSent: false, chain: Promise.resolve() };
      feed = created;
      this.feeds.set(channel, created);
      // The baseline is read now, on the command connection: it is ordered before any write this
      // store makes after subscribe() returns, so those writes are delivered and earlier ones are not.
      const baseline = this.source.readMeta(streamId).then(
        (meta) => ({ ok: true as const, meta }),
        () => ({ ok: false as const }),
      );
      this.enqueue(created, async () => {
        const result = await baseline;
        if (result.ok && created.gen === undefined) this.adopt(created, result.meta);
      });
      // Writes of other relays made between the baseline and the SUBSCRIBE reply are caught up here.
      this.subscriber.subscribe(channel).then(() => this.enqueue(created, () => this.catchUp(created)), ignore);
    }
    const subscribed = feed;
    subscribed.listeners.add(listener);
    return () => {
      subscribed.listeners.delete(listener);
      if (subscribed.listeners.size === 0 && this.feeds.get(channel) === subscribed) {
        this.feeds.delete(channel);
        this.subscriber.unsubscribe(channel).catch(ignore);
      }
    };
  }

  /** This store appended chunks: deliver them without waiting for the notification. */
  localChunks(streamId: string, gen: number, seq: number, data: readonly string[]): void {
    const feed = this.feeds.get(this.source.channelOf(streamId));
    if (feed) this.enqueue(feed, () => this.onChunks(feed, gen, seq, data.length, data));
  }

  /** This store ended a stream. */
  localEnd(streamId: string, gen: number, lastSeq: number, reason: EndReason): void {
    const feed = this.feeds.get(this.source.channelOf(streamId));
    if (feed) this.enqueue(feed, () => this.onEnd(feed, gen, lastSeq, reason));
  }

  /** Forgets every listener. The subscriber connection is closed by the store. */
  clear(): void {
    this.feeds.clear();
  }

  private enqueue(feed: Feed, step: () => Promise<void>): void {
    // A failed step (Redis unreachable) leaves `next` where it was; the next notification or the
    // catch-up after the reconnect delivers the rest.
    feed.chain = feed.chain.then(step).catch(ignore);
  }

  private onMessage(channel: string, message: string): void {
    const feed = this.feeds.get(channel);
    if (!feed) return;
    let note: { t?: unknown; g?: unknown; s?: unknown; d?: unknown; n?: unknown; r?: unknown };
    try {
      note = JSON.parse(message) as typeof note;
    } catch {
      return;
    }
    if (typeof note.g !== 'number' || typeof note.s !== 'number') return;
    const { g: gen, s: seq } = note;
    if (note.t === 'c') {
      const data = Array.isArray(note.d) ? (note.d as string[]) : undefined;
      const count = data ? data.length : typeof note.n === 'number' ? note.n : 0;
      // Already delivered (this relay's own appends come back from Pub/Sub after `localChunks`
      // delivered them): dropped here rather than queued as a step. Within a generation `next`
      // only grows, so the step would find nothing to do either.
      if (count === 0 || (feed.gen === gen && seq + count <= feed.next)) return;
      this.enqueue(feed, () => this.onChunks(feed, gen, seq, count, data));
    } else if (note.t === 'e' && typeof note.r === 'string') {
      const reason = note.r as EndReason;
      this.enqueue(feed, () => this.onEnd(feed, gen, seq, reason));
    }
  }

  private resubscribe(): void {
    if (this.feeds.size === 0) return;
    const feeds = [...this.feeds.values()];
    this.subscriber.subscribe(...feeds.map((feed) => feed.channel)).then(() => {
      for (const feed of feeds) this.enqueue(feed, () => this.catchUp(feed));
    }, ignore);
  }

  /** Takes the stored state as the starting point: nothing stored before it is delivered. */
  private adopt(feed: Feed, meta: FeedMeta | undefined): void {
    feed.gen = meta ? meta.gen : 0;
    feed.next = meta ? meta.info.lastSeq + 1 : 0;
    feed.endSent = meta?.info.status === 'ended';
  }

  /** Applies an event's generation; false when the event belongs to an older stream of that id. */
  private follow(feed: Feed, gen: number, nextIfUnknown: number): boolean {
    if (feed.gen === undefined) {
      feed.gen = gen;
      feed.next = nextIfUnknown;
      return true;
    }
    if (gen < feed.gen) return false;
    if (gen > feed.gen) {
      // The id was reused: a new stream from seq 0.
      feed.gen = gen;
      feed.next = 0;
      feed.endSent = false;
    }
    return true;
  }

  private async onChunks(feed: Feed, gen: number, seq: number, count: number, data: readonly string[] | undefined): Promise<void> {
    if (!this.follow(feed, gen, seq)) return;
    const end = seq + count;
    if (end <= feed.next) return;
    if (data && seq <= feed.next) {
      this.emitChunks(feed, seq === feed.next ? data : data.slice(feed.next - seq));
      return;
    }
    // Read everything stored so far, not only this notification's part: notifications queued
    // behind this one then find their chunks delivered and cost no read of their own.
    await this.fill(feed, data ? end : Number.MAX_SAFE_INTEGER);
  }

  private async onEnd(feed: Feed, gen: number, lastSeq: number, reason: EndReason): Promise<void> {
    if (!this.follow(feed, gen, lastSeq + 1)) return;
    if (feed.next <= lastSeq) await this.fill(feed, lastSeq + 1);
    this.emitEnd(feed, { streamId: feed.streamId, status: 'ended', lastSeq, endReason: reason });
  }

  private async catchUp(feed: Feed): Promise<void> {
    const meta = await this.source.readMeta(feed.streamId);
    if (!meta) return;
    if (feed.gen === undefined) {
      this.adopt(feed, meta);
      return;
    }
    if (!this.follow(feed, meta.gen, 0)) return;
    if (meta.info.lastSeq >= feed.next) await this.fill(feed, meta.info.lastSeq + 1);
    if (meta.info.status === 'ended') this.emitEnd(feed, meta.info);
  }

  /** Reads and delivers the stored chunks from `feed.next` up to `upTo` (exclusive) or the stored end. */
  private async fill(feed: Feed, upTo: number): Promise<void> {
    while (feed.next < upTo) {
      const limit = Math.min(FILL_BATCH, upTo - feed.next);
      const data = await this.source.read(feed.streamId, feed.next, limit);
      if (data.length > 0) this.emitChunks(feed, data);
      if (data.length < limit) return; // the stored end (or the stream expired or was replaced meanwhile)
    }
  }

  private emitChunks(feed: Feed, data: readonly string[]): void {
    const event: StoreEvent = { type: 'chunks', streamId: feed.streamId, seq: feed.next, data };
    feed.next += data.length;
    this.emit(feed, event);
  }

  private emitEnd(feed: Feed, info: StreamInfo): void {
    if (feed.endSent) return;
    feed.endSent = true;
    this.emit(feed, { type: 'end', streamId: feed.streamId, info });
  }

  private emit(feed: Feed, event: StoreEvent): void {
    for (const listener of [...feed.listeners]) {
      try {
        listener(event);
      } catch {
        // One listener's failure must not starve the others.
      }
    }
  }
}
