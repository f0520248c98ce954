/** What to do with one `stream:chunks` frame. */
export type FrameVerdict =
  /** The chunks not seen before, to hand to the consumer in order. */
  | { kind: 'append'; data: readonly string[] }
  /** Every chunk of the frame was already received: drop it. */
  | { kind: 'duplicate' }
  /** The frame starts after `expected`: chunks are missing; read again from `expected`. */
  | { kind: 'gap'; expected: number };

/**
 * Keeps the highest seq received and judges each incoming frame against it, so that a reader never
 * sees a chunk twice nor out of order: overlapping chunks are cut off, whole duplicates dropped, and
 * a frame that starts beyond `receivedSeq + 1` is refused as a gap.
 */
export class Sequencer {
  /** The highest seq accepted so far (`fromSeq - 1` before the first chunk). */
  receivedSeq: number;

  /**
   * @param fromSeq - the first seq the reader wants.
   */
  constructor(fromSeq: number) {
    this.receivedSeq = fromSeq - 1;
  }

  /** The seq the next accepted chunk must have. */
  get nextSeq(): number {
    return this.receivedSeq + 1;
  }

  /**
   * Judges a frame of consecutive chunks `seq`, `seq + 1`, … and, for `append`, advances.
   * @param seq - the seq of `data[0]`.
   * @param data - the frame's chunks.
   * @returns what to do with the frame.
   */
  accept(seq: number, data: readonly string[]): FrameVerdict {
    const expected = this.receivedSeq + 1;
    if (seq > expected) return { kind: 'gap', expected };
    const skip = expected - seq;
    if (skip >= data.length) return { kind: 'duplicate' };
    const fresh = skip === 0 ? data : data.slice(skip);
    this.receivedSeq += fresh.length;
    return { kind: 'append', data: fresh };
  }
}
