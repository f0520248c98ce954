// The AI SDK docs' resumable-stream recipe, with the import changed to @ss/ai/server: a real HTTP
// server (node:http) on port 0 serving POST /api/chat (`streamText` → `toUIMessageStreamResponse`
// with `consumeSseStream` → `createNewResumableStream`) and GET /api/chat/:id/stream
// (`resumeExistingStream`, 204 when there is nothing to resume), a real relay, the AI SDK's mock
// model, and the AI SDK's own parser (`parseJsonEventStream` + `readUIMessageStream`) on the client.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createResumableStreamContext, type ResumableStreamContext } from '../src/server.js';
import { toWebRequest, writeWebResponse } from '@ss/core/node';
import { createRelay, type Relay } from '@ss/relay';
import {
  generateId,
  jsonSchema,
  parseJsonEventStream,
  readUIMessageStream,
  simulateReadableStream,
  streamText,
  tool,
  type UIMessage,
  type UIMessageChunk,
  UI_MESSAGE_STREAM_HEADERS,
  uiMessageChunkSchema,
} from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/streams.js';

const API_KEY = 'test-key-ai-route';
const DELTAS = ['Streams ', 'survive ', 'reloads, ', 'network ', 'drops ', 'and ', 'second ', 'tabs. ', 'Checking ', 'the ', 'weather:'];

/** A deterministic model: text deltas every `delayMs`, then a tool call (executed by streamText). */
function model(delayMs: number, deltas = DELTAS): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doStream: async () => ({
      stream: simulateReadableStream({
        initialDelayInMs: delayMs,
        chunkDelayInMs: delayMs,
        chunks: [
          { type: 'stream-start' as const, warnings: [] },
          { type: 'text-start' as const, id: 'text-1' },
          ...deltas.map((delta) => ({ type: 'text-delta' as const, id: 'text-1', delta })),
          { type: 'text-end' as const, id: 'text-1' },
          { type: 'tool-call' as const, toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
          {
            type: 'finish' as const,
            finishReason: { unified: 'tool-calls' as const, raw: undefined },
            usage: {
              inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
              outputTokens: { total: 12, text: 12, reasoning: undefined },
            },
          },
        ],
      }),
    }),
  });
}

const tools = {
  weather: tool({
    description: 'The weather in a city',
    inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
    execute: async ({ city }) => ({ city, temperature: 21 }),
  }),
};

/** The app: the AI SDK docs' two routes, with the chat's active stream id kept in memory (the docs keep it in the chat's row). */
function chatApp(streamContext: ResumableStreamContext, modelFor: (chatId: string) => MockLanguageModelV4) {
  const activeStreamIds = new Map<string, string>();
  const abortControllers = new Map<string, AbortController>();

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const resume = /^\/api\/chat\/([^/]+)\/stream$/.exec(url.pathname);
    if (request.method === 'POST' && url.pathname === '/api/chat') {
      const { id: chatId, prompt } = (await request.json()) as { id: string; prompt: string };
      const abortController = new AbortController();
      const result = streamText({ model: modelFor(chatId), prompt, tools, abortSignal: abortController.signal });
      return result.toUIMessageStreamResponse({
        async consumeSseStream({ stream }) {
          const streamId = generateId();
          abortControllers.set(chatId, abortController);
          await streamContext.createNewResumableStream(streamId, () => stream, undefined, { abortController });
          activeStreamIds.set(chatId, streamId);
        },
      });
    }
    if (request.method === 'GET' && resume) {
      const activeStreamId = activeStreamIds.get(resume[1] as string);
      if (activeStreamId === undefined) return new Response(null, { status: 204 });
      const stream = await streamContext.resumeExistingStream(activeStreamId);
      if (!stream) return new Response(null, { status: 204 });
      return new Response(stream.pipeThrough(new TextEncoderStream()), { headers: UI_MESSAGE_STREAM_HEADERS });
    }
    if (request.method === 'DELETE' && resume) {
      const activeStreamId = activeStreamIds.get(resume[1] as string);
      if (activeStreamId === undefined) return new Response(null, { status: 204 });
      await streamContext.cancelStream(activeStreamId, 'stopped by the user');
      return new Response(null, { status: 204 });
    }
    return new Response('not found', { status: 404 });
  }

  return { handle, activeStreamIds, abortControllers };
}

/** The AI SDK's own client-side parsing: SSE → UI message chunks → the final UI message. */
async function finalMessage(body: ReadableStream<Uint8Array>): Promise<UIMessage> {
  const chunks = parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream<{ success: boolean; value?: UIMessageChunk; error?: unknown }, UIMessageChunk>({
      transform(part, controller) {
        if (!part.success) throw part.error;
        controller.enqueue(part.value as UIMessageChunk);
      },
    }),
  );
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream<UIMessage>({ stream: chunks, terminateOnError: true })) last = message;
  if (last === undefined) throw new Error('no UI message in the stream');
  return last;
}

describe('the AI SDK resumable-stream recipe on @ss/ai/server (real HTTP servers, real relay)', () => {
  let relay: Relay;
  let server: Server;
  let baseUrl = '';
  const kept: Promise<unknown>[] = [];
  const models = new Map<string, MockLanguageModelV4>();
  let app: ReturnType<typeof chatApp>;

  beforeAll(async () => {
    relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    const { url: relayUrl } = await relay.listen(0);
    const streamContext = createResumableStreamContext({ waitUntil: (promise) => kept.push(promise), relay: { apiKey: API_KEY, baseUrl: relayUrl } });
    app = chatApp(streamContext, (chatId) => {
      const made = chatId.startsWith('slow')
        ? model(40, Array.from({ length: 200 }, (_, index) => `t${index} `))
        : model(chatId === 'chat-cut' ? 60 : 15); // the cut answer lasts ~1 s, so the resume starts mid-answer
      models.set(chatId, made);
      return made;
    });
    server = createServer((request, response) => {
      app.handle(toWebRequest(request, response)).then(
        (webResponse) => writeWebResponse(webResponse, response),
        (error: unknown) => {
          response.statusCode = 500;
          response.end(String(error));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await Promise.allSettled(kept);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await relay.close();
  });

  const post = (id: string, signal?: AbortSignal) =>
    fetch(`${baseUrl}/api/chat`, { method: 'POST', body: JSON.stringify({ id, prompt: 'What survives a reload?' }), headers: { 'content-type': 'application/json' }, signal });

  it('a client that drops mid-answer resumes through GET /api/chat/:id/stream: the AI SDK parses the same final message, tool part included', async () => {
    // The uninterrupted answer.
    const whole = await post('chat-whole');
    expect(whole.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    const expected = await finalMessage(whole.body as ReadableStream<Uint8Array>);
    expect(expected.parts.some((part) => part.type === 'tool-weather' && 'output' in part && (part.output as { temperature: number }).temperature === 21)).toBe(true);
    expect(expected.parts.some((part) => part.type === 'text' && part.text === DELTAS.join(''))).toBe(true);

    // The same prompt; the client reads a few chunks and its connection is dropped for real.
    const abortController = new AbortController();
    const cut = await post('chat-cut', abortController.signal);
    const reader = (cut.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    while (!seen.includes('"text-delta"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the answer ended before the first delta');
      seen += new TextDecoder().decode(value);
    }
    abortController.abort();
    await until(() => app.activeStreamIds.has('chat-cut'), 'the stream id to be saved');

    const cutStreamId = app.activeStreamIds.get('chat-cut') as string;
    expect(await relay.store.info(cutStreamId)).toMatchObject({ status: 'open' }); // still being written: a real mid-answer resume
    const resumed = await fetch(`${baseUrl}/api/chat/chat-cut/stream`);
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('content-type')).toBe('text/event-stream');
    const message = await finalMessage(resumed.body as ReadableStream<Uint8Array>);
    expect(message.parts).toEqual(expected.parts);

    // Once the answer is done, the recipe's GET finds nothing to resume (resumeExistingStream → null): 204.
    await Promise.allSettled(kept);
    expect((await fetch(`${baseUrl}/api/chat/chat-cut/stream`)).status).toBe(204);
    expect((await fetch(`${baseUrl}/api/chat/chat-never/stream`)).status).toBe(204);
  });

  it('the relay holds exactly the SSE text the POST answered, acknowledged and stored, ending with [DONE]', async () => {
    const response = await post('chat-twice');
    const postBody = await response.text();
    await until(() => app.activeStreamIds.has('chat-twice'), 'the stream id to be saved');
    const streamId = app.activeStreamIds.get('chat-twice') as string;
    await until(async () => (await relay.store.info(streamId))?.status === 'ended', 'the relay stream to end');
    expect(await relay.store.info(streamId)).toMatchObject({ endReason: 'completed' });
    // Both were made from the same SSE text: the relay holds exactly what the POST answered.
    const stored = (await relay.store.read(streamId, 0, 10_000)).join('');
    expect(stored).toBe(postBody);
    expect(postBody.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('DELETE /api/chat/:id/stream cancels through the relay: streamText’s abortSignal aborts and the resumed body ends early', async () => {
    const response = await post('slow-cancel');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let seen = '';
    while (!seen.includes('"text-delta"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the answer ended before the first delta');
      seen += new TextDecoder().decode(value);
    }
    await until(() => app.activeStreamIds.has('slow-cancel'), 'the stream id to be saved');
    const resumed = fetch(`${baseUrl}/api/chat/slow-cancel/stream`).then((answer) => answer.text());
    expect((await fetch(`${baseUrl}/api/chat/slow-cancel/stream`, { method: 'DELETE' })).status).toBe(204);
    await until(() => app.abortControllers.get('slow-cancel')?.signal.aborted === true, 'the abort signal');
    const call = models.get('slow-cancel')?.doStreamCalls[0];
    expect(call?.abortSignal?.aborted).toBe(true); // the model call itself saw the abort
    const text = await resumed;
    expect(text).toContain('"text-delta"');
    expect(text).not.toContain('t199 '); // stopped long before the end
    const streamId = app.activeStreamIds.get('slow-cancel') as string;
    await until(async () => (await relay.store.info(streamId))?.status === 'ended', 'the relay stream to end');
    expect(await relay.store.info(streamId)).toMatchObject({ endReason: 'cancelled' });
    await reader.cancel();
  });
});
