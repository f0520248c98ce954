import { describe, expect, it } from 'vitest';
import { Sequencer } from './sequencer.js';

describe('Sequencer', () => {
  it('appends consecutive frames and advances', () => {
    const sequencer = new Sequencer(0);
    expect(sequencer.receivedSeq).toBe(-1);
    expect(sequencer.accept(0, ['a', 'b'])).toEqual({ kind: 'append', data: ['a', 'b'] });
    expect(sequencer.accept(2, ['c'])).toEqual({ kind: 'append', data: ['c'] });
    expect(sequencer.receivedSeq).toBe(2);
    expect(sequencer.nextSeq).toBe(3);
  });

  it('drops frames it already has entirely', () => {
    const sequencer = new Sequencer(0);
    sequencer.accept(0, ['a', 'b', 'c']);
    expect(sequencer.accept(0, ['a', 'b'])).toEqual({ kind: 'duplicate' });
    expect(sequencer.accept(2, ['c'])).toEqual({ kind: 'duplicate' });
    expect(sequencer.receivedSeq).toBe(2);
  });

  it('cuts the already-seen head off an overlapping frame', () => {
    const sequencer = new Sequencer(0);
    sequencer.accept(0, ['a', 'b']);
    expect(sequencer.accept(1, ['b', 'c', 'd'])).toEqual({ kind: 'append', data: ['c', 'd'] });
    expect(sequencer.receivedSeq).toBe(3);
  });

  it('refuses a frame that starts beyond the next seq, without advancing', () => {
    const sequencer = new Sequencer(0);
    sequencer.accept(0, ['a']);
    expect(sequencer.accept(5, ['f'])).toEqual({ kind: 'gap', expected: 1 });
    expect(sequencer.receivedSeq).toBe(0);
  });

  it('starts at fromSeq', () => {
    const sequencer = new Sequencer(10);
    expect(sequencer.accept(0, ['x'])).toEqual({ kind: 'duplicate' });
    expect(sequencer.accept(8, ['i', 'j', 'k'])).toEqual({ kind: 'append', data: ['k'] });
    expect(sequencer.accept(12, ['m'])).toEqual({ kind: 'gap', expected: 11 });
  });
});
