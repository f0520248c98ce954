import { describe, expect, it } from 'vitest';
import { AnswerStore } from './answer-store';

const row = (streamId: string) => ({ streamId, backend: 'hono', prompt: 'p', text: 't', chunks: 1, status: 'completed' as const });

describe('AnswerStore', () => {
  it('lists rows newest first, numbered from 1, with the time saved', () => {
    const store = new AnswerStore();
    store.save(row('a'));
    store.save(row('b'));
    const listed = store.list();
    expect(listed.map((answer) => [answer.id, answer.streamId])).toEqual([
      [2, 'b'],
      [1, 'a'],
    ]);
    expect(Date.parse(listed[0]!.savedAt)).not.toBeNaN();
  });

  it('keeps a second save of the same stream as a second row, so a double save shows', () => {
    const store = new AnswerStore();
    store.save(row('a'));
    store.save(row('a'));
    expect(store.list().filter((answer) => answer.streamId === 'a')).toHaveLength(2);
  });

  it('keeps at most `limit` rows, dropping the oldest', () => {
    const store = new AnswerStore(2);
    for (const id of ['a', 'b', 'c']) store.save(row(id));
    expect(store.list().map((answer) => answer.streamId)).toEqual(['c', 'b']);
    expect(store.list()[0]!.id).toBe(3);
  });
});
