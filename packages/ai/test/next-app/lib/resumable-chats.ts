// The app side of @ss/ai/server's Next.js test: the README's resumable-stream recipe (a context
// made once, `after` as waitUntil, the relay URL from STREAMSTRAIGHT_API_BASE_URL), each chat's
// active stream id, and what the model call saw (kept on globalThis: route handlers may be
// bundled separately).
import { createResumableStreamContext } from '@ss/ai/server';
import { after } from 'next/server';
import { API_KEY } from './chats';

export const streamContext = createResumableStreamContext({ waitUntil: after, relay: { apiKey: API_KEY } });

interface ResumableChat {
  activeStreamId?: string;
  modelSignals: AbortSignal[];
}

const global = globalThis as typeof globalThis & { ssResumableChats?: Map<string, ResumableChat> };
const chats = (global.ssResumableChats ??= new Map());

export function resumableChat(chatId: string): ResumableChat {
  let chat = chats.get(chatId);
  if (chat === undefined) chats.set(chatId, (chat = { modelSignals: [] }));
  return chat;
}
