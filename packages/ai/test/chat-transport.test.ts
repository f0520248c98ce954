// StreamstraightChatTransport against a real relay and the README's route on real Hono and Express
// servers, read with the AI SDK's own readUIMessageStream. Faults are real: the HTTP response is cut
// by destroying its TCP connection (a proxy between the transport and the app).
import { setTimeout as sleep } from 'node:timers/promises';
import { streamstraightServer } from '@ss/core';
import { createRelay, type Relay } from '@ss/relay';
import { parseJsonEventStream, type UIMessage, type UIMessageChunk, uiMessageChunkSchema } from 'ai';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { StreamstraightChatTransport } from '../src/index.js';
import { API_KEY, type ChatApp, type ChatState, startExpressChat, startHonoChat } from './support/chat-apps.js';
import { answerText } from './support/chat-model.js';
import { readMessage, textOf } from './support/ui-messages.js';

const WORDS = 60;

const userMessage = (text: string): UIMessage => ({ id: crypto.randomUUID(), role: 'user', parts: [{ type: 'text', text }] });

function send(transport: StreamstraightChatTransport, chatId: string, abortSignal?: AbortSignal) {
  return transport.sendMessages({ trigger: 'submit-message', chatId, messageId: undefined, messages: [userMessage('Weather in Paris?')], abortSignal });
}

/** The parts an uninterrupted answer has: the text, then the tool call with its result. */
function expectWholeAnswer(message: UIMessage): void {
  expect(textOf(message)).toBe(answerText(WORDS));
  expect(message.parts.filter((part) => part.type === 'text')).toHaveLength(1);
  expect(message.parts.find((part) => part.type === 'tool-weather')).toMatchObject({
    toolCallId: 'call-1',
    state: 'output-available',
    input: { city: 'Paris' },
    output: { city: 'Paris', forecast: 'sunny', celsius: 21 },
  });
}

/** The Next.js test app (built and started by test/global-setup.ts, on the relay it started), seen over HTTP. */
function nextApp(): ChatApp {
  const url = inject('nextAppUrl');
  const stateUrl = (chatId: string) => `${url}/api/chat-state/${encodeURIComponent(chatId)}`;
  return {
    url,
    state: async (chatId) => (await (await fetch(stateUrl(chatId))).json()) as ChatState,
    setActiveStream: async (chatId, activeStream) => {
      await fetch(stateUrl(chatId), { method: 'PUT', body: JSON.stringify({ activeStream }) });
    },
    close: async () => {},
  };
}

/** Where a test app runs: its relay (and, in process, the relay itself) and the app. */
interface Target {
  relayUrl: string;
  relay?: Relay;
  app: ChatApp;
}

const targets: Array<[string, () => Promise<Target>]> = [
  ['Hono', async () => inProcess(startHonoChat)],
  ['Express', async () => inProcess(startExpressChat)],
  ['Next.js', async () => ({ relayUrl: inject('nextRelayUrl'), app: nextApp() })],
];

async function inProcess(start: typeof startHonoChat): Promise<Target> {
  const relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
  const relayUrl = (await relay.listen(0)).url;
  return { relay, relayUrl, app: await start(relayUrl, { words: WORDS, delayMs: 5 }) };
}

/** The relay's view of a stream, over its HTTP API. */
async function streamInfo(relayUrl: string, streamId: string): Promise<unknown> {
  const response = await fetch(`${relayUrl}/v1/streams/${encodeURIComponent(streamId)}`, { headers: { authorization: `Bearer ${API_KEY}` } });
  return response.json();
}

for (const [framework, start] of targets) {
  describe(`StreamstraightChatTransport with ${framework}`, () => {
    let target: Target;
    let app: ChatApp;
    let proxy: TcpProxy;
    const cleanups: Array<() => Promise<unknown> | unknown> = [];

    beforeEach(async () => {
      target = await start();
      app = target.app;
      proxy = await startTcpProxy(Number(new URL(app.url).port));
    });
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await proxy.close();
      await app.close();
      await target.relay?.close();
    });

    const transport = (options: ConstructorParameters<typeof StreamstraightChatTransport>[0] = {}) => {
      const created = new StreamstraightChatTransport({ api: `${proxy.url}/api/chat`, reader: { retryBaseMs: 50, retryMaxMs: 250 }, ...options });
      cleanups.push(() => created.close());
      return created;
    };
    const waitForFinish = (chatId: string) =>
      vi.waitFor(async () => {
        const { finished } = await app.state(chatId);
        expect(finished).toBeDefined();
        return finished as { relay: string; cancelled: boolean };
      }, { timeout: 15_000 });

    it('reads an uninterrupted answer (text and a tool call with its result) from the HTTP response', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      expectWholeAnswer(await readMessage(await send(transport(), chatId)));
      expect(proxy.accepted).toBe(1); // no grant asked for: the relay was not needed
      expect(await waitForFinish(chatId)).toEqual({ relay: 'ok', cancelled: false });
    });

    it('continues from the relay at lastSeq + 1 when the HTTP response is cut mid-answer: same parts, no duplicated text, no error', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      let textAtCut: string | undefined;
      const message = await readMessage(await send(transport(), chatId), (update) => {
        if (textAtCut === undefined && textOf(update).length > 60) {
          textAtCut = textOf(update);
          expect(proxy.dropConnections()).toBeGreaterThan(0);
        }
      });
      expect(textAtCut).toBeDefined();
      expect(textAtCut?.length).toBeLessThan(answerText(WORDS).length);
      expectWholeAnswer(message);
      expect(proxy.accepted).toBe(2); // the chat POST, then the grant for the relay
    });

    it('survives several cuts in one answer', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      let cuts = 0;
      // Cut the connection of the grant request too, as it starts: the transport must not give up.
      const message = await readMessage(await send(transport(), chatId), (update) => {
        const length = textOf(update).length;
        if ((cuts === 0 && length > 40) || (cuts === 1 && length > 200)) {
          cuts++;
          proxy.dropConnections();
        }
      });
      expect(cuts).toBeGreaterThanOrEqual(1);
      expectWholeAnswer(message);
    });

    it('reconnectToStream (a reload mid-answer) replays the answer from the relay, and a second tab gets the same', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      const first = transport();
      const stream = await send(first, chatId);
      const reader = stream.getReader();
      await reader.read();
      await reader.cancel(); // the page went away; the model call goes on
      expect(first.resumeStreamIsReplay).toBe(true);
      const [reloaded, secondTab] = await Promise.all([transport().reconnectToStream({ chatId }), transport().reconnectToStream({ chatId })]);
      expect(reloaded).not.toBeNull();
      expect(secondTab).not.toBeNull();
      const [one, two] = await Promise.all([readMessage(reloaded as ReadableStream<UIMessageChunk>), readMessage(secondTab as ReadableStream<UIMessageChunk>)]);
      expectWholeAnswer(one);
      expect(two.parts).toEqual(one.parts);
      expect(await waitForFinish(chatId)).toEqual({ relay: 'ok', cancelled: false });
    });

    it('reconnectToStream answers null for a chat with no stream, and for a finished answer', async () => {
      expect(await transport().reconnectToStream({ chatId: `chat-${crypto.randomUUID()}` })).toBeNull();
      const chatId = `chat-${crypto.randomUUID()}`;
      expectWholeAnswer(await readMessage(await send(transport(), chatId)));
      await waitForFinish(chatId);
      expect(await transport().reconnectToStream({ chatId })).toBeNull();
    });

    it('reconnectToStream right after the chat route recorded its stream, before the relay has it, waits for it instead of answering null', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      const streamId = `${chatId}:early`;
      await app.setActiveStream(chatId, streamId);
      const resuming = transport().reconnectToStream({ chatId });
      await sleep(300); // the relay does not know the stream yet
      const producer = await streamstraightServer({ apiKey: API_KEY, baseUrl: target.relayUrl }, { streamId });
      cleanups.push(() => producer.disconnect());
      const parts = [{ type: 'start' }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'early' }, { type: 'text-end', id: 't' }, { type: 'finish' }];
      const writing = producer.stream((async function* () {
        for (const part of parts) {
          yield part;
          await sleep(50); // still open when the resume route asks the relay
        }
      })());
      const stream = await resuming;
      expect(stream).not.toBeNull();
      expect(textOf(await readMessage(stream as ReadableStream<UIMessageChunk>))).toBe('early');
      await writing;
    });

    it('reconnectToStream answers null when the recorded stream never appears on the relay (expired, never opened)', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      await app.setActiveStream(chatId, `${chatId}:gone`);
      expect(await transport().reconnectToStream({ chatId })).toBeNull();
    });

    it('stop() with cancelOnStop cancels at the relay: the model call is aborted and the stream ends cancelled', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      const controller = new AbortController();
      const stream = await send(transport({ cancelOnStop: true }), chatId, controller.signal);
      await readMessage(stream, (update) => {
        if (textOf(update).length > 30 && !controller.signal.aborted) controller.abort();
      }).catch(() => {}); // an aborted read may end either way; what matters is on the server
      await vi.waitFor(async () => expect((await app.state(chatId)).modelAborted).toBe(true), { timeout: 10_000 });
      expect(await waitForFinish(chatId)).toEqual({ relay: 'ok', cancelled: true });
      const info = await streamInfo(target.relayUrl, (await app.state(chatId)).activeStream as string);
      expect(info).toMatchObject({ status: 'ended', endReason: 'cancelled' });
    });

    it('stop() without cancelOnStop stops only this page: the answer completes on the server', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      const controller = new AbortController();
      const stream = await send(transport(), chatId, controller.signal);
      await readMessage(stream, (update) => {
        if (textOf(update).length > 30 && !controller.signal.aborted) controller.abort();
      }).catch(() => {});
      expect(await waitForFinish(chatId)).toEqual({ relay: 'ok', cancelled: false });
      expect((await app.state(chatId)).modelAborted).toBe(false);
    });

    it('a grant refused by the app (the chat moved on to another stream) errors the chat with FORBIDDEN instead of hanging', async () => {
      const chatId = `chat-${crypto.randomUUID()}`;
      let moved: Promise<void> | undefined;
      const failure = readMessage(await send(transport(), chatId), (update) => {
        if (textOf(update).length > 30 && moved === undefined) {
          // The chat moves on before the page asks for the rest: then the connection breaks.
          moved = app.setActiveStream(chatId, 'someone-else').then(() => void proxy.dropConnections());
        }
      });
      await expect(failure).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    // Counting the relay's connections needs the relay in this process (not the Next.js app's).
    if (framework !== 'Next.js') it('close() releases the relay connections of the streams it reads', async () => {
      const relay = target.relay as Relay;
      const chatId = `chat-${crypto.randomUUID()}`;
      const first = transport();
      const reader = (await send(first, chatId)).getReader();
      await reader.read();
      await reader.cancel();
      const resumed = transport();
      const stream = (await resumed.reconnectToStream({ chatId })) as ReadableStream<UIMessageChunk>;
      const resumedReader = stream.getReader();
      await resumedReader.read();
      await vi.waitFor(() => expect(relay.io.engine.clientsCount).toBeGreaterThan(1)); // the app's producer and the reader
      resumed.close();
      await vi.waitFor(() => expect(relay.io.engine.clientsCount).toBeLessThanOrEqual(1), { timeout: 5_000 });
      resumedReader.cancel().catch(() => {});
    });
  });
}

describe('StreamstraightChatTransport: the relay down during sendMessages', () => {
  it('the HTTP answer still completes, and the route hears of the failure through onError', async () => {
    const closedRelay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    const { url } = await closedRelay.listen(0);
    await closedRelay.close(); // nothing listens there now
    const app = await startHonoChat(url, { words: WORDS, delayMs: 1 });
    try {
      const transport = new StreamstraightChatTransport({ api: `${app.url}/api/chat` });
      const chatId = `chat-${crypto.randomUUID()}`;
      expectWholeAnswer(await readMessage(await send(transport, chatId)));
      await vi.waitFor(async () => expect((await app.state(chatId)).errors).toContain('RELAY_UNAVAILABLE'), { timeout: 15_000 });
    } finally {
      await app.close();
    }
  });
});

describe("the 'ui-message-stream' body format", () => {
  it("is read by the AI SDK's own parser: every frame a valid UI message chunk, [DONE] skipped", async () => {
    const relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
    const { url } = await relay.listen(0);
    const app = await startExpressChat(url, { words: 10, delayMs: 0 });
    try {
      const response = await fetch(`${app.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'format-chat', messages: [userMessage('hi')] }),
      });
      expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const parsed: Array<{ success: boolean; value?: UIMessageChunk }> = [];
      const reader = parseJsonEventStream({ stream: response.body as ReadableStream<Uint8Array>, schema: uiMessageChunkSchema }).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parsed.push(value as { success: boolean; value?: UIMessageChunk });
      }
      expect(parsed.every((chunk) => chunk.success)).toBe(true);
      expect(parsed[0]?.value?.type).toBe('start');
      expect(parsed.at(-1)?.value?.type).toBe('finish');
      await sleep(0);
    } finally {
      await app.close();
      await relay.close();
    }
  });
});
