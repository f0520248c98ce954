// The AI SDK page's resume route (GET /api/ai-chat/<chatId>/stream, where useChat's transport asks):
// 204 when the chat has no answer being written, else { streamId, token, relayUrl } for the relay.
import { activeStreamHandler } from '@ss/nextjs';
import { nextBackend } from '../../../../../src/apps/next-backend';

export const { GET } = activeStreamHandler({
  apiKey: () => nextBackend().apiKey, // read per request: the key is in the environment at run time, not at `next build`
  // baseUrl: the relay, from STREAMSTRAIGHT_API_BASE_URL (the launcher sets it).
  activeStream: (_request, chatId) => nextBackend().aiChats.get(chatId)?.activeStreamId,
  cancel: true, // the page's Stop cancels the answer at the relay (cancelOnStop)
});
