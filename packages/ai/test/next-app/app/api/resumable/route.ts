// The README's app/api/chat/route.ts for the resumable-stream recipe, with the test's model.
import { convertToModelMessages, generateId, streamText, type UIMessage } from 'ai';
import { chatModel } from '../../../../support/chat-model';
import { resumableChat, streamContext } from '../../../lib/resumable-chats';

export const dynamic = 'force-dynamic';

export async function POST(request: Request): Promise<Response> {
  const { id, messages, words, delayMs }: { id: string; messages: UIMessage[]; words: number; delayMs: number } = await request.json();
  const model = chatModel({ words, delayMs });
  const chat = resumableChat(id);
  chat.modelSignals = model.signals;
  const abortController = new AbortController();
  const result = streamText({ model: model.model, tools: model.tools, messages: await convertToModelMessages(messages), abortSignal: abortController.signal });
  return result.toUIMessageStreamResponse({
    originalMessages: messages,
    async consumeSseStream({ stream }) {
      const streamId = generateId();
      await streamContext.createNewResumableStream(streamId, () => stream, undefined, { abortController });
      chat.activeStreamId = streamId;
    },
  });
}
