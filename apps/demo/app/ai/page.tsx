import { randomUUID } from 'node:crypto';
import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { connection } from 'next/server';
import { isChatId } from '../../src/ai/chat-request';
import { nextBackend } from '../../src/apps/next-backend';
import { AiChatPage } from './ai-chat-page';

export const metadata: Metadata = {
  title: 'Streamstraight demo — useChat that resumes',
  description: 'The Vercel AI SDK’s useChat with StreamstraightChatTransport: reload, cut the response, open a second tab.',
};

/**
 * The AI SDK page. The chat id lives in the URL (`/ai?chat=…`), so a reload or a second tab opens
 * the same chat; its saved messages are loaded here, on the server, and the browser resumes the
 * answer being written, if any.
 */
export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  const { chat } = await searchParams;
  if (!isChatId(chat)) redirect(`/ai?chat=${randomUUID()}`);
  const backend = nextBackend();
  return <AiChatPage chatId={chat} initialMessages={backend.aiChats.get(chat)?.messages ?? []} model={backend.aiModel.name} />;
}
