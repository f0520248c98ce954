// The app side of the transport tests: the route a user writes from packages/ai/README.md, on a real
// Hono and a real Express server on port 0, each in front of a real relay.
//   POST /api/chat              → streamText(...).toUIMessageStream() through streamResponse, format 'ui-message-stream'
//   GET  /api/chat/:id/stream   → activeStreamHandler (cancel tokens: the transport's cancelOnStop)
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { StreamstraightError } from '@ss/core';
import { activeStreamHandler as expressActiveStream, streamResponse as expressStream } from '@ss/express';
import { activeStreamHandler as honoActiveStream, streamResponse as honoStream } from '@ss/hono';
import { convertToModelMessages, streamText, type UIMessage } from 'ai';
import express from 'express';
import { Hono } from 'hono';
import { chatModel, type ChatModelOptions } from './chat-model.js';

export const API_KEY = 'ai-transport-key';

/** What happened to one chat in an app. */
export interface ChatState {
  /** The chat's active stream id (its last answer's). */
  activeStream?: string;
  /** Whether the model call of the last answer was aborted. */
  modelAborted?: boolean;
  /** The last answer's onFinish: how its relay branch ended ('ok' or a code), and whether it was cancelled. */
  finished?: { relay: string; cancelled: boolean };
  /** The codes the route's onError reported for the chat. */
  errors: string[];
}

/** A running chat app, and a look into it (in-process, or over HTTP for Next.js). */
export interface ChatApp {
  url: string;
  state(chatId: string): Promise<ChatState>;
  /** Points the chat at another active stream (a chat that moved on). */
  setActiveStream(chatId: string, streamId: string): Promise<void>;
  close(): Promise<void>;
}

/** A chat's record in an in-process app: its state, and the abort signals its last model call got. */
type ChatRecord = Omit<ChatState, 'modelAborted'> & { modelSignals: AbortSignal[] };

/** The in-process apps' record of their chats. */
class ChatRecords {
  readonly chats = new Map<string, ChatRecord>();
  of(chatId: string): ChatRecord {
    let record = this.chats.get(chatId);
    if (record === undefined) this.chats.set(chatId, (record = { errors: [], modelSignals: [] }));
    return record;
  }
  /** The ChatApp face of these records. */
  app(url: string, close: () => Promise<void>): ChatApp {
    return {
      url,
      close,
      state: async (chatId) => {
        const { modelSignals, ...state } = this.of(chatId);
        // The signal the model itself got (streamText passes the route's abortSignal down to it).
        return structuredClone({ ...state, modelAborted: modelSignals.some((signal) => signal.aborted) });
      },
      setActiveStream: async (chatId, streamId) => {
        this.of(chatId).activeStream = streamId;
      },
    };
  }
}

interface ChatRequestBody {
  id: string;
  messages: UIMessage[];
}

/** The part of the route every framework shares: the model call and the tee's options. */
async function answer(records: ChatRecords, relayUrl: string, body: ChatRequestBody, modelOptions: ChatModelOptions | undefined) {
  const chat = records.of(body.id);
  const model = chatModel(modelOptions);
  const abort = new AbortController();
  const result = streamText({
    model: model.model,
    tools: model.tools,
    messages: await convertToModelMessages(body.messages),
    abortSignal: abort.signal,
  });
  const streamId = `${body.id}:${crypto.randomUUID()}`; // one stream per answer
  Object.assign(chat, { activeStream: streamId, modelSignals: model.signals, finished: undefined });
  return {
    source: result.toUIMessageStream(),
    options: {
      apiKey: API_KEY,
      baseUrl: relayUrl,
      streamId,
      format: 'ui-message-stream' as const,
      retries: 2,
      retryBaseMs: 50,
      onCancel: () => abort.abort(),
      onError: (error: StreamstraightError) => chat.errors.push(error.code),
      onFinish: ({ relay, cancelled }: { relay: 'ok' | StreamstraightError; cancelled: boolean }) => {
        chat.finished = { relay: relay === 'ok' ? 'ok' : relay.code, cancelled };
      },
    },
  };
}

async function listening(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The README's Hono app. */
export async function startHonoChat(relayUrl: string, modelOptions?: ChatModelOptions): Promise<ChatApp> {
  const records = new ChatRecords();
  const app = new Hono();
  app.post('/api/chat', async (c) => {
    const { source, options } = await answer(records, relayUrl, await c.req.json<ChatRequestBody>(), modelOptions);
    return honoStream(c, source, options);
  });
  app.get('/api/chat/:id/stream', honoActiveStream({ apiKey: API_KEY, baseUrl: relayUrl, cancel: true, activeStream: (_c, chatId) => records.of(chatId).activeStream }));
  const { url, close } = await listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
  return records.app(url, close);
}

/** The README's Express app. */
export async function startExpressChat(relayUrl: string, modelOptions?: ChatModelOptions): Promise<ChatApp> {
  const records = new ChatRecords();
  const app = express();
  app.post('/api/chat', express.json(), (req, res, next) => {
    answer(records, relayUrl, req.body as ChatRequestBody, modelOptions)
      .then(({ source, options }) => expressStream(req, res, source, options))
      .catch(next);
  });
  app.get('/api/chat/:id/stream', expressActiveStream({ apiKey: API_KEY, baseUrl: relayUrl, cancel: true, activeStream: (_req, chatId) => records.of(chatId).activeStream }));
  const { url, close } = await listening(createServer(app));
  return records.app(url, close);
}
