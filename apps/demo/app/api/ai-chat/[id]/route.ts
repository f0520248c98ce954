// A chat as the app saved it: its messages, its active stream, and what happened to each answer on
// the server (model calls, how the tee ended). The page loads the messages on open; the tests read the rest.
import { NextResponse } from 'next/server';
import { isChatId } from '../../../../src/ai/chat-request';
import { nextBackend } from '../../../../src/apps/next-backend';

export const dynamic = 'force-dynamic';

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<NextResponse> {
  const { id } = await params;
  if (!isChatId(id)) return NextResponse.json({ error: 'A chat id is 1-64 characters of A-Z a-z 0-9 _ -.' }, { status: 400 });
  const chat = nextBackend().aiChats.get(id);
  return NextResponse.json({ id, messages: chat?.messages ?? [], activeStreamId: chat?.activeStreamId ?? null, answers: chat?.answers ?? [] });
}
