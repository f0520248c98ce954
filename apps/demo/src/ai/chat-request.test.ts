import { describe, expect, it } from 'vitest';
import { MAX_PROMPT_LENGTH } from '../chat/chat-turn';
import { MAX_CHAT_MESSAGES, isChatId, readChatRequest } from './chat-request';

const user = (text: string) => ({ id: crypto.randomUUID(), role: 'user', parts: [{ type: 'text', text }] });

describe('readChatRequest', () => {
  it("reads useChat's body: the chat id, the validated messages and the last user message's text", async () => {
    const request = await readChatRequest({ id: 'chat_1', messages: [user('  Weather in Lyon? ')], trigger: 'submit-message', messageId: undefined });
    expect(request).toMatchObject({ id: 'chat_1', prompt: 'Weather in Lyon?' });
  });

  it.each([
    ['no body', null],
    ['a chat id that cannot prefix a stream id', { id: 'a b', messages: [user('hi')] }],
    ['no messages', { id: 'c', messages: [] }],
    ['too many messages', { id: 'c', messages: Array.from({ length: MAX_CHAT_MESSAGES + 1 }, () => user('hi')) }],
    ['messages that are not UI messages', { id: 'c', messages: [{ role: 'user', content: 'hi' }] }],
    ['a last message that is not the user’s', { id: 'c', messages: [{ id: 'x', role: 'assistant', parts: [{ type: 'text', text: 'hello' }] }] }],
    ['a prompt that is too long', { id: 'c', messages: [user('x'.repeat(MAX_PROMPT_LENGTH + 1))] }],
  ])('answers an error for %s', async (_case, body) => {
    expect(await readChatRequest(body)).toEqual({ error: expect.any(String) });
  });

  it('accepts chat ids of 1-64 characters of A-Z a-z 0-9 _ -', () => {
    expect(isChatId(crypto.randomUUID())).toBe(true);
    expect(isChatId('x'.repeat(65))).toBe(false);
    expect(isChatId('a:b')).toBe(false);
  });
});
