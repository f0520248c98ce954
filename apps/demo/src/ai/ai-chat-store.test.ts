import type { UIMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { AiChatStore } from './ai-chat-store';

const user = (text: string): UIMessage => ({ id: text, role: 'user', parts: [{ type: 'text', text }] });
const assistant = (text: string): UIMessage => ({ id: `a-${text}`, role: 'assistant', parts: [{ type: 'text', text }] });

describe('AiChatStore', () => {
  it("keeps a chat's question at the start of an answer and everything at its end, and the active stream", () => {
    const store = new AiChatStore();
    store.startAnswer('c1', [user('hi')], 'c1:one', 'hi');
    expect(store.get('c1')).toMatchObject({ messages: [user('hi')], activeStreamId: 'c1:one' });
    expect(store.saveMessages('c1', 'c1:one', [user('hi'), assistant('hello')])).toBe(true);
    expect(store.get('c1')?.messages).toEqual([user('hi'), assistant('hello')]);
    store.finishAnswer('c1:one', { cancelled: false, relay: 'ok', chunks: 12 });
    expect(store.get('c1')?.answers[0]).toMatchObject({ streamId: 'c1:one', prompt: 'hi', finish: { cancelled: false, relay: 'ok', chunks: 12 } });
  });

  it('does not let an older answer that ends late overwrite the history a newer one started from', () => {
    const store = new AiChatStore();
    store.startAnswer('c1', [user('one')], 'c1:one', 'one');
    store.startAnswer('c1', [user('one'), user('two')], 'c1:two', 'two');
    expect(store.saveMessages('c1', 'c1:one', [user('one'), assistant('late')])).toBe(false);
    expect(store.get('c1')?.messages).toEqual([user('one'), user('two')]);
    expect(store.get('c1')?.activeStreamId).toBe('c1:two');
  });

  it('keeps at most `limit` chats, forgetting the least recently updated', () => {
    const store = new AiChatStore(2);
    store.startAnswer('a', [user('a')], 'a:1', 'a');
    store.startAnswer('b', [user('b')], 'b:1', 'b');
    store.get('a')!.updatedAt = 0; // the oldest
    store.startAnswer('c', [user('c')], 'c:1', 'c');
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBeDefined();
    expect(store.get('c')).toBeDefined();
    store.finishAnswer('a:1', { cancelled: false, relay: 'ok', chunks: 1 }); // forgotten: nothing to record, no throw
  });
});
