// StreamstraightChatTransport on the previous major of the AI SDK (6.x; `ai` is aliased to it by
// vitest.ai-v6.config.ts): its DefaultChatTransport under ours, its readUIMessageStream reading.
// The app streams fixed UI message chunks (no model: the server side does not depend on `ai`).
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { activeStreamHandler, streamResponse } from '@ss/hono';
import { createRelay, type Relay } from '@ss/relay';
import * as ai from 'ai';
import { type UIMessage, type UIMessageChunk } from 'ai';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../relay/test/support/tcp-proxy.js';
import { StreamstraightChatTransport } from '../../src/index.js';
import { readMessage, textOf } from '../support/ui-messages.js';

const API_KEY = 'ai-v6-key';
const WORDS = 60;
const text = Array.from({ length: WORDS }, (_, index) => `word${index} `).join('');

/** The UI message chunks of an answer: text, then a tool call with its output, paced. */
async function* answerChunks(): AsyncGenerator<Record<string, unknown>> {
  yield { type: 'start', messageId: 'm1' };
  yield { type: 'start-step' };
  yield { type: 'text-start', id: 't1' };
  for (let index = 0; index < WORDS; index++) {
    await sleep(5);
    yield { type: 'text-delta', id: 't1', delta: `word${index} ` };
  }
  yield { type: 'text-end', id: 't1' };
  yield { type: 'tool-input-available', toolCallId: 'call-1', toolName: 'weather', input: { city: 'Paris' } };
  yield { type: 'tool-output-available', toolCallId: 'call-1', output: { forecast: 'sunny' } };
  yield { type: 'finish-step' };
  yield { type: 'finish' };
}


function expectWholeAnswer(message: UIMessage): void {
  expect(textOf(message)).toBe(text);
  expect(message.parts.find((part) => part.type === 'tool-weather')).toMatchObject({ state: 'output-available', output: { forecast: 'sunny' } });
}

describe('StreamstraightChatTransport with ai 6', () => {
  let relay: Relay;
  let proxy: TcpProxy;
  let close: () => void;
  const activeStreams = new Map<string, string>();

  beforeAll(async () => {
    relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    const { url: relayUrl } = await relay.listen(0);
    const app = new Hono();
    app.post('/api/chat', async (c) => {
      const { id } = await c.req.json<{ id: string }>();
      const streamId = `${id}:${crypto.randomUUID()}`;
      activeStreams.set(id, streamId);
      return streamResponse(c, answerChunks(), { apiKey: API_KEY, baseUrl: relayUrl, streamId, format: 'ui-message-stream' });
    });
    app.get('/api/chat/:id/stream', activeStreamHandler({ apiKey: API_KEY, baseUrl: relayUrl, activeStream: (_c, chatId) => activeStreams.get(chatId) }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    close = () => server.close();
    proxy = await startTcpProxy((server.address() as { port: number }).port);
  });
  afterAll(async () => {
    await proxy.close();
    close();
    await relay.close();
  });

  const send = (transport: StreamstraightChatTransport, chatId: string) =>
    transport.sendMessages({ trigger: 'submit-message', chatId, messageId: undefined, messages: [], abortSignal: undefined });

  it('reads the answer, and continues from the relay when the response is cut mid-answer', async () => {
    const transport = new StreamstraightChatTransport({ api: `${proxy.url}/api/chat` });
    // `ai` is 6.x here (WebSocketChatTransport is new in 7), and it is the transport's base class too.
    expect('WebSocketChatTransport' in ai).toBe(false);
    expect(transport).toBeInstanceOf(ai.DefaultChatTransport);
    expectWholeAnswer(await readMessage(await send(transport, `v6-${crypto.randomUUID()}`)));
    let cut = false;
    const message = await readMessage(await send(transport, `v6-${crypto.randomUUID()}`), (update) => {
      if (!cut && textOf(update).length > 60) cut = proxy.dropConnections() > 0;
    });
    expect(cut).toBe(true);
    expectWholeAnswer(message);
    transport.close();
  });

  it('reconnectToStream replays an answer being written from the relay', async () => {
    const chatId = `v6-${crypto.randomUUID()}`;
    const transport = new StreamstraightChatTransport({ api: `${proxy.url}/api/chat` });
    const reader = (await send(transport, chatId)).getReader();
    await reader.read();
    await reader.cancel();
    const resumed = await transport.reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    expectWholeAnswer(await readMessage(resumed as ReadableStream<UIMessageChunk>));
    transport.close();
  });
});
