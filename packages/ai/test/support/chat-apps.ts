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

/** A running chat app and what happened in it. */
export interface ChatApp {
  url: string;
  /** Each chat's active stream id (the last answer's). */
  activeStreams: Map<string, string>;
  /** The model calls' abort signals, in order. */
  modelSignals: AbortSignal[];
  /** What the routes' onError reported. */
  errors: StreamstraightError[];
  /** onFinish results: stream id → how the relay branch ended ('ok' or a code), and whether it was cancelled. */
  finished: Map<string, { relay: string; cancelled: boolean }>;
  close(): Promise<void>;
}

interface ChatRequestBody {
  id: string;
  messages: UIMessage[];
}

/** The part of the route every framework shares: the model call and the tee's options. */
function answer(app: ChatApp, relayUrl: string, body: ChatRequestBody, model: ReturnType<typeof chatModel>) {
  return async () => {
    const abort = new AbortController();
    const result = streamText({
      model: model.model,
      tools: model.tools,
      messages: await convertToModelMessages(body.messages),
      abortSignal: abort.signal,
    });
    const streamId = `${body.id}:${crypto.randomUUID()}`; // one stream per answer
    app.activeStreams.set(body.id, streamId);
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
        onError: (error: StreamstraightError) => app.errors.push(error),
        onFinish: ({ relay, cancelled }: { relay: 'ok' | StreamstraightError; cancelled: boolean }) =>
          app.finished.set(streamId, { relay: relay === 'ok' ? 'ok' : relay.code, cancelled }),
      },
    };
  };
}

function newApp(): Omit<ChatApp, 'url' | 'close'> {
  return { activeStreams: new Map(), modelSignals: [], errors: [], finished: new Map() };
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
  const state = newApp();
  const model = chatModel(modelOptions);
  state.modelSignals = model.signals;
  const app = new Hono();
  const chat = { ...state } as ChatApp;
  app.post('/api/chat', async (c) => {
    const { source, options } = await answer(chat, relayUrl, await c.req.json<ChatRequestBody>(), model)();
    return honoStream(c, source, options);
  });
  app.get('/api/chat/:id/stream', honoActiveStream({ apiKey: API_KEY, baseUrl: relayUrl, cancel: true, activeStream: (_c, chatId) => chat.activeStreams.get(chatId) }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  const { url, close } = await listening(server);
  return Object.assign(chat, { url, close });
}

/** The README's Express app. */
export async function startExpressChat(relayUrl: string, modelOptions?: ChatModelOptions): Promise<ChatApp> {
  const state = newApp();
  const model = chatModel(modelOptions);
  state.modelSignals = model.signals;
  const chat = { ...state } as ChatApp;
  const app = express();
  app.post('/api/chat', express.json(), (req, res, next) => {
    answer(chat, relayUrl, req.body as ChatRequestBody, model)()
      .then(({ source, options }) => expressStream(req, res, source, options))
      .catch(next);
  });
  app.get('/api/chat/:id/stream', expressActiveStream({ apiKey: API_KEY, baseUrl: relayUrl, cancel: true, activeStream: (_req, chatId) => chat.activeStreams.get(chatId) }));
  const { url, close } = await listening(createServer(app));
  return Object.assign(chat, { url, close });
}
