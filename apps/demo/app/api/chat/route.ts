// The Next.js chat route: streams the answer through `@ss/nextjs` (which keeps going with `after()`).
import { streamResponse } from '@ss/nextjs';
import { NextResponse } from 'next/server';
import { nextBackend } from '../../../src/apps/next-backend';
import { BAD_PROMPT_MESSAGE, finishedAnswer, newStreamId, readPrompt, saveAnswer } from '../../../src/chat/chat-turn';

export async function POST(request: Request): Promise<Response> {
  const { apiKey, relayUrl, model, answers } = nextBackend();
  const prompt = readPrompt(await request.json().catch(() => null));
  if (prompt === undefined) return NextResponse.json({ error: BAD_PROMPT_MESSAGE }, { status: 400 });
  const streamId = newStreamId('next');
  return streamResponse(model.stream(prompt), {
    apiKey,
    baseUrl: relayUrl,
    streamId,
    // Runs once, after the model finished (or was stopped) — whether or not a browser is still here.
    onFinish: (result) => saveAnswer(answers, finishedAnswer('next', prompt, result)),
    onError: (error) => console.error(`[next] stream ${streamId}: ${error.message}`),
  });
}
