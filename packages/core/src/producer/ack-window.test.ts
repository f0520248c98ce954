import { describe, expect, it } from 'vitest';
import { AckWindow } from './ack-window.js';

function filled(capacity: number, count: number): AckWindow {
  const window = new AckWindow(capacity);
  for (let index = 0; index < count; index++) window.push(`c${index}`);
  return window;
}

describe('AckWindow', () => {
  it('numbers chunks 0, 1, 2… and reports room until the capacity', () => {
    const window = new AckWindow(3);
    expect(window.push('a')).toBe(0);
    expect(window.push('b')).toBe(1);
    expect(window.hasRoom).toBe(true);
    expect(window.push('c')).toBe(2);
    expect(window.hasRoom).toBe(false);
    expect(window.size).toBe(3);
    expect(window.nextSeq).toBe(3);
    expect(window.isDrained).toBe(false);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new AckWindow(0)).toThrow(RangeError);
    expect(() => new AckWindow(1.5)).toThrow(RangeError);
  });

  it('batches every unsent chunk into one frame, then nothing', () => {
    const window = filled(10, 4);
    expect(window.takeFrame(1024, 1 << 20)).toEqual({ seq: 0, data: ['c0', 'c1', 'c2', 'c3'] });
    expect(window.takeFrame(1024, 1 << 20)).toBeUndefined();
    expect(window.sentSeq).toBe(3);
    expect(window.unsentCount).toBe(0);
    window.push('c4');
    expect(window.takeFrame(1024, 1 << 20)).toEqual({ seq: 4, data: ['c4'] });
  });

  it('caps a frame by chunk count', () => {
    const window = filled(10, 5);
    expect(window.takeFrame(2, 1 << 20)).toEqual({ seq: 0, data: ['c0', 'c1'] });
    expect(window.takeFrame(2, 1 << 20)).toEqual({ seq: 2, data: ['c2', 'c3'] });
    expect(window.takeFrame(2, 1 << 20)).toEqual({ seq: 4, data: ['c4'] });
  });

  it('caps a frame by UTF-8 bytes but always takes at least one chunk', () => {
    const window = new AckWindow(10);
    window.push('x'.repeat(100));
    window.push('é'.repeat(30)); // 60 bytes
    window.push('y'.repeat(10));
    expect(window.takeFrame(10, 50)?.data).toHaveLength(1); // 100 bytes alone is over, still sent
    expect(window.takeFrame(10, 65)?.data).toEqual(['é'.repeat(30)]); // 60 + 10 > 65
    expect(window.takeFrame(10, 65)?.data).toEqual(['y'.repeat(10)]);
  });

  it('frees everything up to an acknowledged lastSeq, making room', () => {
    const window = filled(3, 3);
    window.takeFrame(1024, 1 << 20);
    expect(window.ack(1)).toBe(2);
    expect(window.ackedSeq).toBe(1);
    expect(window.size).toBe(1);
    expect(window.hasRoom).toBe(true);
    expect(window.ack(2)).toBe(1);
    expect(window.isDrained).toBe(true);
  });

  it('ignores stale and duplicate acks, and caps acks beyond the last chunk', () => {
    const window = filled(10, 3);
    window.takeFrame(1024, 1 << 20);
    window.ack(1);
    expect(window.ack(0)).toBe(0);
    expect(window.ack(1)).toBe(0);
    expect(window.ack(99)).toBe(1);
    expect(window.ackedSeq).toBe(2);
    expect(window.push('next')).toBe(3);
  });

  it('rewinds to resend everything unacknowledged, in order', () => {
    const window = filled(10, 6);
    window.takeFrame(2, 1 << 20); // 0-1
    window.takeFrame(2, 1 << 20); // 2-3
    window.ack(1);
    window.rewind();
    expect(window.unsentCount).toBe(4);
    expect(window.takeFrame(1024, 1 << 20)).toEqual({ seq: 2, data: ['c2', 'c3', 'c4', 'c5'] });
  });

  it('skips chunks a resume reports as stored even when they were not re-sent yet', () => {
    const window = filled(10, 6);
    window.takeFrame(1024, 1 << 20);
    window.rewind();
    window.ack(3); // the relay says it holds 0-3
    expect(window.takeFrame(1024, 1 << 20)).toEqual({ seq: 4, data: ['c4', 'c5'] });
  });

  it('applies an old frame ack that arrives after a rewind without resending acked chunks', () => {
    const window = filled(10, 4);
    window.takeFrame(1024, 1 << 20);
    window.rewind();
    window.ack(3);
    expect(window.unsentCount).toBe(0);
    expect(window.takeFrame(1024, 1 << 20)).toBeUndefined();
  });

  it('keeps seq and data aligned across many push/ack cycles (compaction)', () => {
    const window = new AckWindow(1000);
    let expectedSeq = 0;
    for (let round = 0; round < 60; round++) {
      for (let index = 0; index < 997; index++) window.push(String(window.nextSeq));
      while (window.unsentCount > 0) {
        const frame = window.takeFrame(333, 1 << 20)!;
        expect(frame.seq).toBe(expectedSeq);
        const misaligned = frame.data.findIndex((data, offset) => data !== String(frame.seq + offset));
        expect(misaligned).toBe(-1);
        expectedSeq += frame.data.length;
        if (round % 2 === 0) window.ack(frame.seq + frame.data.length - 1);
      }
      window.ack(window.nextSeq - 1);
      expect(window.isDrained).toBe(true);
    }
    expect(window.nextSeq).toBe(60 * 997);
  });

  it('with a byte limit, has room until the unacknowledged chunks reach it, and frees bytes on ack', () => {
    const window = new AckWindow(100, 10);
    window.push('aaaa'); // 4 bytes
    window.push('é'); // 2 bytes (UTF-8)
    expect(window.byteSize).toBe(6);
    expect(window.hasRoom).toBe(true);
    window.push('bbbb'); // 10 bytes: full
    expect(window.hasRoom).toBe(false);
    window.ack(0);
    expect(window.byteSize).toBe(6);
    expect(window.hasRoom).toBe(true);
    window.ack(2);
    expect(window.byteSize).toBe(0);
  });

  it('takes one chunk larger than the byte limit into an empty window, and keeps sizes aligned through compaction', () => {
    const big = new AckWindow(10, 4);
    expect(big.hasRoom).toBe(true);
    big.push('0123456789');
    expect(big.hasRoom).toBe(false);
    const window = new AckWindow(10_000, 1 << 20);
    for (let index = 0; index < 9_000; index++) window.push('x'.repeat(index % 7));
    window.ack(4_999); // compacts (head >= 4096)
    let expected = 0;
    for (let index = 5_000; index < 9_000; index++) expected += index % 7;
    expect(window.byteSize).toBe(expected);
    window.push('yy');
    window.ack(window.nextSeq - 1);
    expect(window.byteSize).toBe(0);
  });
});
