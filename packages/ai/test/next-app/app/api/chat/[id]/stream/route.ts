import { activeStreamHandler } from '@ss/nextjs';
import { API_KEY, chatRecord } from '../../../../../lib/chats';

export const dynamic = 'force-dynamic';

export const { GET } = activeStreamHandler({ apiKey: () => API_KEY, cancel: true, activeStream: (_request, chatId) => chatRecord(chatId).activeStream });
