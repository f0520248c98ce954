/**
 * The producer's acknowledgement window for one stream: pure bookkeeping, no I/O.
 *
 * Every chunk gets the next `seq` (0, 1, 2, …) and stays in the window until the relay
 * acknowledges a `lastSeq` at or above it. Chunks are handed out in frames (consecutive runs of
 * unsent chunks); after a reconnect {@link AckWindow.rewind} marks everything unacknowledged as
 * unsent again, so the next frames resend it (the relay drops what it already holds).
 *
 * ```
 *   acked ≤ ackedSeq │ sent, awaiting ack ≤ sentSeq │ unsent … < nextSeq
 * ```
 */
import { utf8ByteLength } from '../protocol.js';

/** A run of consecutive chunks `seq`, `seq + 1`, … taken from the window to send as one frame. */
export interface WindowFrame {
  /** Seq of `data[0]`. */
  seq: number;
  /** The encoded chunks, at least one. */
  data: string[];
}

/**
 * A bounded buffer of unacknowledged chunks with seq bookkeeping: at most `capacity` chunks and,
 * optionally, about `maxBytes` UTF-8 bytes (a single chunk larger than that still fits an empty
 * window).
 *
 * @example
 * ```ts
 * const window = new AckWindow(1024)
 * window.push('"hello"')                       // seq 0
 * const frame = window.takeFrame(1024, 512 * 1024) // { seq: 0, data: ['"hello"'] }
 * window.ack(0)                                // frees it
 * ```
 */
export class AckWindow {
  /** Largest number of unacknowledged chunks the window holds. */
  readonly capacity: number;
  /** Largest summed UTF-8 size of the unacknowledged chunks (`Infinity`: no byte limit). */
  readonly maxBytes: number;
  // items[head + i] holds seq ackedSeq + 1 + i, sizes[head + i] its UTF-8 size (kept only with a
  // byte limit). Freed slots before `head` are compacted lazily.
  private items: string[] = [];
  private sizes: number[] = [];
  private bytes = 0;
  private head = 0;
  private acked = -1;
  private sent = -1;
  private next = 0;

  /**
   * @param capacity - the largest number of unacknowledged chunks (at least 1).
   * @param maxBytes - the largest summed UTF-8 size of unacknowledged chunks. Default: no limit.
   */
  constructor(capacity: number, maxBytes = Number.POSITIVE_INFINITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`AckWindow capacity must be a positive integer, got ${capacity}`);
    }
    if (!(maxBytes >= 1)) throw new RangeError(`AckWindow maxBytes must be at least 1, got ${maxBytes}`);
    this.capacity = capacity;
    this.maxBytes = maxBytes;
  }

  /** The seq the next pushed chunk gets. */
  get nextSeq(): number {
    return this.next;
  }

  /** The highest acknowledged seq (-1 when none). */
  get ackedSeq(): number {
    return this.acked;
  }

  /** The highest seq handed out in a frame since the last rewind (-1 when none). */
  get sentSeq(): number {
    return this.sent;
  }

  /** Number of chunks not yet acknowledged (sent or not). */
  get size(): number {
    return this.next - this.acked - 1;
  }

  /** Number of chunks not yet handed out in a frame. */
  get unsentCount(): number {
    return this.next - this.sent - 1;
  }

  /** Summed UTF-8 size of the unacknowledged chunks (0 when the window has no byte limit). */
  get byteSize(): number {
    return this.bytes;
  }

  /** Whether another chunk fits (below both the chunk and the byte limit). */
  get hasRoom(): boolean {
    return this.next - this.acked - 1 < this.capacity && this.bytes < this.maxBytes;
  }

  /** Whether every pushed chunk has been acknowledged. */
  get isDrained(): boolean {
    return this.acked === this.next - 1;
  }

  /**
   * Adds a chunk. The caller checks {@link hasRoom} first (the window does not refuse: the bound
   * is the caller's backpressure signal, not a hard limit).
   * @param data - the encoded chunk.
   * @returns the chunk's seq.
   */
  push(data: string): number {
    this.items.push(data);
    if (this.maxBytes !== Number.POSITIVE_INFINITY) {
      const size = utf8ByteLength(data);
      this.sizes.push(size);
      this.bytes += size;
    }
    return this.next++;
  }

  /**
   * Takes the next run of unsent chunks, at most `maxChunks` and about `maxBytes` UTF-8 bytes
   * (always at least one chunk, however large).
   * @param maxChunks - cap on the number of chunks.
   * @param maxBytes - cap on the summed UTF-8 size of the chunks.
   * @returns the frame, or undefined when nothing is unsent.
   */
  takeFrame(maxChunks: number, maxBytes: number): WindowFrame | undefined {
    const available = this.next - this.sent - 1;
    if (available <= 0) return undefined;
    const seq = this.sent + 1;
    const start = this.head + (seq - this.acked - 1);
    const limit = Math.min(available, Math.max(1, maxChunks));
    let count = 0;
    let bytes = 0;
    while (count < limit) {
      const size = utf8ByteLength(this.items[start + count] as string);
      if (count > 0 && bytes + size > maxBytes) break;
      bytes += size;
      count++;
    }
    this.sent = seq + count - 1;
    return { seq, data: this.items.slice(start, start + count) };
  }

  /**
   * Records that the relay holds every chunk up to `lastSeq` and frees them. Acks may arrive
   * late or out of order (an old frame's ack after a rewind): a lower `lastSeq` than already
   * acknowledged is ignored; a higher one than ever sent is capped at the last pushed chunk.
   * @param lastSeq - the highest seq the relay holds.
   * @returns how many chunks were freed.
   */
  ack(lastSeq: number): number {
    const target = Math.min(lastSeq, this.next - 1);
    if (target <= this.acked) return 0;
    const freed = target - this.acked;
    if (this.sizes.length > 0) {
      for (let index = this.head; index < this.head + freed; index++) this.bytes -= this.sizes[index] as number;
    }
    this.head += freed;
    this.acked = target;
    if (this.sent < target) this.sent = target;
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.bytes = 0;
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      if (this.sizes.length > 0) this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return freed;
  }

  /** Marks every unacknowledged chunk as unsent, so the next frames resend it. */
  rewind(): void {
    this.sent = this.acked;
  }
}
