import { afterEach, describe, expect, it } from 'vitest';
import { ReaderBudgets, type SlowReaderReason } from './reader-budget.js';
import { RelayMetrics } from './relay-metrics.js';

const metrics = new RelayMetrics({ connections: () => ({ producer: 0, consumer: 0 }), streamsWithReaders: () => 0 });
const opened: ReaderBudgets[] = [];
afterEach(() => {
  for (const budgets of opened.splice(0)) budgets.close();
});

/** A transport whose queue the test sets by hand. */
function fakeReader(budgets: ReaderBudgets) {
  const state = { queued: 0, drops: [] as SlowReaderReason[] };
  const budget = budgets.create({ queuedBytes: () => state.queued, drop: (reason) => state.drops.push(reason) });
  return { state, budget };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('ReaderBudget', () => {
  it('has room under a quarter of the bound, and waitForRoom resolves once progress brings it there', async () => {
    const budgets = new ReaderBudgets({ maxQueuedBytes: 1_000, stallTimeoutMs: 60_000 }, metrics);
    opened.push(budgets);
    const { state, budget } = fakeReader(budgets);
    expect(budget.hasRoom).toBe(true);
    state.queued = 400;
    expect(budget.hasRoom).toBe(false);
    let room: boolean | undefined;
    void budget.waitForRoom().then((value) => (room = value));
    budget.noteProgress();
    await turn();
    expect(room).toBeUndefined(); // still 400 queued
    state.queued = 200;
    budget.noteProgress();
    await turn();
    expect(room).toBe(true);
  });

  it('tells onBehind past half the bound and drops past the bound, once the turn settled', async () => {
    const budgets = new ReaderBudgets({ maxQueuedBytes: 1_000, stallTimeoutMs: 60_000 }, metrics);
    opened.push(budgets);
    const { state, budget } = fakeReader(budgets);
    let behind = 0;
    budget.onBehind(() => behind++);
    state.queued = 2_000;
    budget.noteQueued();
    state.queued = 600; // drained within the turn: not a drop
    await turn();
    expect(state.drops).toEqual([]);
    expect(behind).toBe(1);
    state.queued = 1_500;
    budget.noteQueued();
    let room: boolean | undefined;
    void budget.waitForRoom().then((value) => (room = value));
    await turn();
    expect(state.drops).toEqual(['maxQueuedBytesPerReader']);
    expect(budget.closed).toBe(true);
    await turn();
    expect(room).toBe(false);
  });

  it('drops a reader whose queue makes no progress for stallTimeoutMs, and keeps one that drains slowly', async () => {
    const budgets = new ReaderBudgets({ maxQueuedBytes: 1_000_000, stallTimeoutMs: 200 }, metrics);
    opened.push(budgets);
    const stuck = fakeReader(budgets);
    const slow = fakeReader(budgets);
    stuck.state.queued = 10_000;
    slow.state.queued = 10_000;
    const started = Date.now();
    while (stuck.state.drops.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      slow.state.queued = Math.max(1, slow.state.queued - 100); // a little leaves every 10 ms
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    expect(stuck.state.drops).toEqual(['slowReaderTimeoutMs']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(slow.state.drops).toEqual([]);
  });
});
