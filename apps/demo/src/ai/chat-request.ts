/**
 * What the AI SDK page's chat route accepts: the body `useChat`'s transport POSTs
 * (`{ id, messages, trigger, messageId }`), checked before it reaches the model.
 */
import { type UIMessage, safeValidateUIMessages } from 'ai';
import { MAX_PROMPT_LENGTH } from '../chat/chat-turn';
import { weatherTool } from './weather-tool';

/** Most messages a chat request may carry. */
export const MAX_CHAT_MESSAGES = 100;

const CHAT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * @param value - anything.
 * @returns whether it can name a chat: 1–64 of `A-Z a-z 0-9 _ -` (a stream id is `${chatId}:${uuid}`).
 */
export function isChatId(value: unknown): value is string {
  return typeof value === 'string' && CHAT_ID.test(value);
}

/** A usable chat request. */
export interface ChatRequest {
  id: string;
  messages: UIMessage[];
  /** The last user message's text. */
  prompt: string;
}

/**
 * Reads and validates a chat request's JSON body with the AI SDK's own message validation.
 * @param body - the parsed body (anything).
 * @returns the request, or `{ error }` with a message for a 400 answer.
 */
export async function readChatRequest(body: unknown): Promise<ChatRequest | { error: string }> {
  const { id, messages } = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; messages?: unknown };
  if (!isChatId(id)) return { error: 'Send the JSON useChat sends: { id, messages }, with an id of 1-64 characters of A-Z a-z 0-9 _ -.' };
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_CHAT_MESSAGES) {
    return { error: `messages must be an array of 1 to ${MAX_CHAT_MESSAGES} UI messages.` };
  }
  const validated = await safeValidateUIMessages({ messages, tools: { weather: weatherTool } });
  if (!validated.success) return { error: `messages are not valid UI messages: ${validated.error.message}` };
  const last = validated.data.at(-1);
  const prompt = last?.role === 'user' ? last.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('').trim() : '';
  if (prompt === '' || prompt.length > MAX_PROMPT_LENGTH) {
    return { error: `The last message must be the user's, with a text of 1 to ${MAX_PROMPT_LENGTH} characters.` };
  }
  return { id, messages: validated.data, prompt };
}
