// The AI SDK page's chat route: streamText, its UI message stream through `@ss/nextjs` (the response
// and the relay at once), the chat's messages saved at the start and at the end of each answer.
import { randomUUID } from 'node:crypto';
import { streamResponse } from '@ss/nextjs';
import { convertToModelMessages, stepCountIs, streamText } from 'ai';
import { NextResponse } from 'next/server';
import { readChatRequest } from '../../../src/ai/chat-request';
import { weatherTool } from '../../../src/ai/weather-tool';
import { nextBackend } from '../../../src/apps/next-backend';

export async function POST(request: Request): Promise<Response> {
  const { apiKey, relayUrl, aiModel, aiChats } = nextBackend();
  const chat = await readChatRequest(await request.json().catch(() => null));
  if ('error' in chat) return NextResponse.json({ error: chat.error }, { status: 400 });
  const streamId = `${chat.id}:${randomUUID()}`; // one stream per answer
  const answer = aiChats.startAnswer(chat.id, chat.messages, streamId, chat.prompt);
  const abortController = new AbortController(); // aborted when a reader cancels through the relay (Stop)
  const result = streamText({
    model: aiModel.create((report) => answer.modelCalls.push(report)),
    tools: { weather: weatherTool },
    stopWhen: stepCountIs(3), // a tool call, then the answer that reads its result
    messages: await convertToModelMessages(chat.messages),
    abortSignal: abortController.signal,
  });
  return streamResponse(
    result.toUIMessageStream({
      originalMessages: chat.messages,
      generateMessageId: randomUUID,
      // Runs once per answer, before the relay stream ends — whether or not a tab is still reading.
      onEnd: ({ messages }) => void aiChats.saveMessages(chat.id, streamId, messages),
    }),
    {
      apiKey,
      baseUrl: relayUrl,
      streamId,
      format: 'ui-message-stream',
      onCancel: () => abortController.abort(),
      onFinish: ({ cancelled, relay, lastSeq }) => aiChats.finishAnswer(streamId, { cancelled, relay: relay === 'ok' ? 'ok' : relay.code, chunks: lastSeq + 1 }),
      onError: (error) => console.error(`[next] AI chat stream ${streamId}: ${error.message}`),
    },
  );
}
