// The app side of @ss/ai's Next.js transport tests: the README's chat route, and what happened to
// each chat (kept on globalThis: route handlers may be bundled separately).
import { type StreamstraightError, streamResponse } from '@ss/nextjs';
import { convertToModelMessages, streamText, type UIMessage } from 'ai';
import { chatModel } from '../../support/chat-model';

export const API_KEY = 'ai-transport-key';

interface ChatRecord {
  activeStream?: string;
  finished?: { relay: string; cancelled: boolean };
  errors: string[];
  modelSignals: AbortSignal[];
}

const global = globalThis as typeof globalThis & { ssChats?: Map<string, ChatRecord> };
const chats = (global.ssChats ??= new Map());

export function chatRecord(chatId: string): ChatRecord {
  let record = chats.get(chatId);
  if (record === undefined) chats.set(chatId, (record = { errors: [], modelSignals: [] }));
  return record;
}

export async function answer(request: Request): Promise<Response> {
  const { id: chatId, messages } = (await request.json()) as { id: string; messages: UIMessage[] };
  const chat = chatRecord(chatId);
  const model = chatModel({ words: 60, delayMs: 5 });
  const abort = new AbortController();
  const result = streamText({ model: model.model, tools: model.tools, messages: await convertToModelMessages(messages), abortSignal: abort.signal });
  const streamId = `${chatId}:${crypto.randomUUID()}`; // one stream per answer
  Object.assign(chat, { activeStream: streamId, modelSignals: model.signals, finished: undefined });
  return streamResponse(result.toUIMessageStream(), {
    apiKey: API_KEY, // baseUrl: STREAMSTRAIGHT_API_BASE_URL, set by the test's global setup
    streamId,
    format: 'ui-message-stream',
    retries: 2,
    retryBaseMs: 50,
    onCancel: () => abort.abort(),
    onError: (error: StreamstraightError) => chat.errors.push(error.code),
    onFinish: ({ relay, cancelled }) => {
      chat.finished = { relay: relay === 'ok' ? 'ok' : relay.code, cancelled };
    },
  });
}
