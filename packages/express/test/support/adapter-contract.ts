// The contract every framework adapter passes: the list of issue 3, run against a real app server
// on port 0, a real relay, a real HTTP client that really goes away and a real relay reader.
//
// It lives here and is imported by relative path from @ss/hono's and @ss/nextjs's tests too, so
// the three adapters run literally the same suite (each package devDepends on @ss/relay and
// @ss/client, which this file imports).
//
// The app under test serves (see `chatRequest` for the query of GET /chat):
//   GET  /chat?relay=<url>&id=<streamId>&count&size&pauseEvery&throwAt   → streamResponse(...)
//   POST /token                                                          → tokenHandler (ids starting "allowed-")
//   GET  /events?id=<streamId>                                           → what onFinish / onError reported
//   GET  /chats/:id/stream[?streamId=]                                   → activeStreamHandler (the chat's stream
//                                                                          is the last GET /chat with chat=<id>)
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { streamstraightClient } from '@ss/client';
import { type ActiveStreamHandlerOptions, type TeeOptions, type TeeResult, mintClientToken, verifyClientToken } from '@ss/core';
import { type Relay, type StreamStore, createRelay, memoryStore } from '@ss/relay';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../relay/test/support/tcp-proxy.js';

export const API_KEY = 'adapter-contract-key';

/** What the app reports from its `onFinish` / `onError`. */
export type AppEvent =
  | { type: 'finish'; streamId: string; chunks: number; text: string; read: number; relay: string; response: string; cancelled: boolean; error?: string }
  | { type: 'error'; streamId: string; code: string };

/** A running app under test. */
export interface AdapterApp {
  url: string;
  close(): Promise<void>;
}

/** Each chat's active stream and the relay it went to, set by GET /chat?chat=<chatId> (in-process apps). */
export const activeChats = new Map<string, { streamId: string; relay: string | undefined }>();

/** The options of the test apps' activeStreamHandler for a request about `chatId` (its relay is the chat's). */
export function activeStreamOptions(chatId: string): ActiveStreamHandlerOptions<unknown> {
  const relay = activeChats.get(chatId)?.relay;
  return { apiKey: API_KEY, ...(relay ? { baseUrl: relay } : {}), activeStream: (_request, id) => activeChats.get(id)?.streamId };
}

/** The text of chunk `index`: `t<index> ` plus `size` bytes of padding. */
export const chunkText = (index: number, size = 0): string => `t${index} ${'x'.repeat(size)}`;

/**
 * The shared body of GET /chat for in-process apps: the source and options the query describes.
 * `record` receives what onFinish / onError report.
 */
export function chatRequest(query: URLSearchParams, record: (event: AppEvent) => void): { source: AsyncIterable<string>; options: TeeOptions<string> } {
  const streamId = query.get('id') ?? 'missing-id';
  const chatId = query.get('chat');
  if (chatId !== null) activeChats.set(chatId, { streamId, relay: query.get('relay') ?? undefined });
  const count = Number(query.get('count') ?? 2_000);
  const size = Number(query.get('size') ?? 0);
  const pauseEvery = Number(query.get('pauseEvery') ?? 20);
  const throwAt = Number(query.get('throwAt') ?? -1);
  let read = 0;
  async function* source() {
    for (let index = 0; index < count; index++) {
      if (index === throwAt) throw new Error(`the model failed at chunk ${index}`);
      if (index % pauseEvery === 0) await sleep(1);
      read++;
      yield chunkText(index, size);
    }
  }
  const options: TeeOptions<string> = {
    apiKey: API_KEY,
    baseUrl: query.get('relay') ?? undefined,
    streamId,
    retryBaseMs: 50,
    retryMaxMs: 250,
    onFinish: (result) => record(finishEvent(result, read)),
    onError: (error) => record({ type: 'error', streamId, code: error.code }),
  };
  return { source: source(), options };
}

/** The event an app records for a finished tee. */
export function finishEvent(result: TeeResult<string>, read: number): AppEvent {
  return {
    type: 'finish',
    streamId: result.streamId,
    chunks: result.chunks.length,
    text: result.text,
    read,
    relay: result.relay === 'ok' ? 'ok' : result.relay.code,
    response: result.response,
    cancelled: result.cancelled,
    ...(result.error ? { error: result.error.code } : {}),
  };
}

/** An in-memory event log, grouped by stream id, for in-process apps. */
export function eventLog() {
  const events = new Map<string, AppEvent[]>();
  return {
    record: (event: AppEvent) => events.set(event.streamId, [...(events.get(event.streamId) ?? []), event]),
    of: (streamId: string) => events.get(streamId) ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// Test-side tools

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** A real HTTP client reading an SSE response; it can pause (backpressure) and destroy its socket. */
interface SseClient {
  response: IncomingMessage;
  events: SseEvent[];
  bytes: number;
  /** Resolves when at least `count` events arrived. */
  waitForEvents(count: number): Promise<void>;
  /** Resolves when the response ended or broke: `complete` is false for a cut response. */
  finished: Promise<{ complete: boolean }>;
  destroy(): void;
}

function openSse(url: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, (response) => {
      const decoder = new TextDecoder();
      let buffer = '';
      const waiters: Array<{ count: number; resolve: () => void }> = [];
      const client: SseClient = {
        response,
        events: [],
        bytes: 0,
        waitForEvents: (count) =>
          client.events.length >= count ? Promise.resolve() : new Promise((done) => waiters.push({ count, resolve: done })),
        finished: new Promise((done) => {
          response.on('end', () => done({ complete: response.complete }));
          response.on('error', () => done({ complete: false }));
          response.on('aborted', () => done({ complete: false }));
          response.on('close', () => done({ complete: response.complete }));
        }),
        destroy: () => request.destroy(),
      };
      response.on('data', (chunk: Buffer) => {
        client.bytes += chunk.length;
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            const colon = line.indexOf(': ');
            const field = line.slice(0, colon);
            const value = line.slice(colon + 2);
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') data.push(value);
          }
          event.data = data.join('\n');
          client.events.push(event);
          end = buffer.indexOf('\n\n');
        }
        for (const waiter of waiters.filter((item) => client.events.length >= item.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      });
      resolve(client);
    });
    request.on('error', (error) => reject(error));
    request.end();
  });
}

/** Reads a whole stream from the relay as a reader would. */
async function readFromRelay(relayUrl: string, streamId: string): Promise<{ data: string[]; endReason: string | undefined; error: string | undefined }> {
  const reader = streamstraightClient<string>(
    { baseUrl: relayUrl, fetchToken: () => mintClientToken({ apiKey: API_KEY, streamIds: [streamId] }), retryBaseMs: 50, retryMaxMs: 250 },
    { streamId, waitForStreamMs: 10_000 },
  );
  const data: string[] = [];
  try {
    for await (const chunk of reader) data.push(chunk);
    return { data, endReason: reader.endReason, error: undefined };
  } catch (error) {
    return { data, endReason: reader.endReason, error: (error as { code?: string }).code ?? String(error) };
  } finally {
    reader.close();
  }
}

/** A store that outlives the relays using it (a relay closes its store on close()). */
function keptStore(store: StreamStore): StreamStore {
  return { ...store, close: async () => {} };
}

async function waitFor<T>(read: () => Promise<T>, ready: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ready(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await sleep(20);
  }
}

const expectedTexts = (count: number, size = 0) => Array.from({ length: count }, (_, index) => chunkText(index, size));

/**
 * Runs the adapter contract against an app.
 * @param name - the framework, for the suite's title.
 * @param start - starts the app (once for the suite).
 */
export function adapterContract(name: string, start: () => Promise<AdapterApp>): void {
  describe(`${name} adapter contract`, () => {
    let app: AdapterApp;
    const relays: Relay[] = [];
    const stores: StreamStore[] = [];
    const proxies: TcpProxy[] = [];
    let counter = 0;
    const nextId = (label: string) => `${name.replace(/[^a-z0-9]/gi, '')}-${label}-${Date.now().toString(36)}-${++counter}`;

    beforeAll(async () => {
      app = await start();
    }, 120_000);
    afterAll(async () => {
      await app?.close();
    });
    afterEach(async () => {
      await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
      await Promise.all(relays.splice(0).map((relay) => relay.close()));
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    async function startRelay(store?: StreamStore): Promise<{ relay: Relay; url: string; port: number }> {
      const relay = createRelay({ apiKeys: [API_KEY], log: () => {}, ...(store ? { store } : {}) });
      relays.push(relay);
      const { url, port } = await relay.listen(0);
      return { relay, url, port };
    }

    const chatUrl = (relayUrl: string, streamId: string, query: Record<string, number | string> = {}) =>
      `${app.url}/chat?${new URLSearchParams({ relay: relayUrl, id: streamId, ...Object.fromEntries(Object.entries(query).map(([key, value]) => [key, String(value)])) })}`;

    async function eventsOf(streamId: string): Promise<AppEvent[]> {
      const response = await fetch(`${app.url}/events?id=${encodeURIComponent(streamId)}`);
      return (await response.json()) as AppEvent[];
    }

    /** Waits for onFinish, then a little longer to be sure it is not called twice. */
    async function finishOf(streamId: string): Promise<{ finish: Extract<AppEvent, { type: 'finish' }>; errors: string[] }> {
      await waitFor(() => eventsOf(streamId), (events) => events.some((event) => event.type === 'finish'), `onFinish of ${streamId}`);
      await sleep(100);
      const events = await eventsOf(streamId);
      const finishes = events.filter((event) => event.type === 'finish');
      expect(finishes).toHaveLength(1);
      return {
        finish: finishes[0] as Extract<AppEvent, { type: 'finish' }>,
        errors: events.flatMap((event) => (event.type === 'error' ? [event.code] : [])),
      };
    }

    const payloads = (client: SseClient) => client.events.filter((event) => event.event === undefined);

    it('streams a 2,000-chunk source to the HTTP client and to a relay reader: the same chunks, in order', async () => {
      const { url } = await startRelay();
      const streamId = nextId('same');
      const client = await openSse(chatUrl(url, streamId));
      expect(client.response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(client.response.headers['x-stream-id']).toBe(streamId);
      expect(client.response.headers['access-control-expose-headers']).toMatch(/x-stream-id/i);
      const reading = readFromRelay(url, streamId);
      expect(await client.finished).toEqual({ complete: true });
      const fromHttp = payloads(client);
      expect(fromHttp.map((event) => event.id)).toEqual(expectedTexts(2_000).map((_, index) => String(index)));
      expect(fromHttp.map((event) => JSON.parse(event.data))).toEqual(expectedTexts(2_000));
      expect(client.events.at(-1)).toEqual({ event: 'end', data: JSON.stringify({ reason: 'completed', lastSeq: 1_999 }) });
      const fromRelay = await reading;
      expect(fromRelay).toEqual({ data: fromHttp.map((event) => JSON.parse(event.data)), endReason: 'completed', error: undefined });
      const { finish, errors } = await finishOf(streamId);
      expect(finish).toMatchObject({ chunks: 2_000, read: 2_000, relay: 'ok', response: 'completed', cancelled: false });
      expect(errors).toEqual([]);
    });

    it('keeps going when the HTTP client destroys its socket after 100 chunks: source read to the end, relay complete, onFinish once', async () => {
      const { url } = await startRelay();
      const streamId = nextId('gone');
      const client = await openSse(chatUrl(url, streamId, { pauseEvery: 5 }));
      await client.waitForEvents(100);
      client.destroy();
      const { finish, errors } = await finishOf(streamId);
      expect(payloads(client).length).toBeLessThan(2_000);
      expect(finish).toMatchObject({ chunks: 2_000, read: 2_000, relay: 'ok', cancelled: false, text: expectedTexts(2_000).join('') });
      expect(errors).toEqual([]);
      expect(await readFromRelay(url, streamId)).toEqual({ data: expectedTexts(2_000), endReason: 'completed', error: undefined });
    });

    it('lets a slow HTTP client (backpressure) read at its pace without slowing the source or the relay', async () => {
      const { url } = await startRelay();
      const streamId = nextId('slow');
      const client = await openSse(chatUrl(url, streamId, { size: 1_024 })); // ~2 MB: far more than the socket buffers
      client.response.pause();
      const { finish } = await finishOf(streamId); // the source and the relay finish while the client reads nothing
      expect(finish).toMatchObject({ chunks: 2_000, relay: 'ok' });
      expect(client.bytes).toBeLessThan(1_000_000);
      client.response.resume();
      expect(await client.finished).toEqual({ complete: true });
      expect(payloads(client).map((event) => JSON.parse(event.data))).toEqual(expectedTexts(2_000, 1_024));
      expect((await readFromRelay(url, streamId)).data).toEqual(expectedTexts(2_000, 1_024));
    });

    it('keeps going when the client disconnects during a blocked write', async () => {
      const { url } = await startRelay();
      const streamId = nextId('blocked');
      const client = await openSse(chatUrl(url, streamId, { size: 1_024, pauseEvery: 4 }));
      client.response.pause(); // the app's write() soon returns false and it waits for drain
      await sleep(150);
      client.destroy();
      const { finish, errors } = await finishOf(streamId);
      expect(finish).toMatchObject({ chunks: 2_000, read: 2_000, relay: 'ok', response: 'disconnected' });
      expect(errors).toEqual([]);
      const fromRelay = await readFromRelay(url, streamId);
      expect(fromRelay.endReason).toBe('completed');
      expect(fromRelay.data).toEqual(expectedTexts(2_000, 1_024));
      // The app is not stuck: it answers the next request.
      expect((await fetch(`${app.url}/events?id=none`)).status).toBe(200);
    });

    it('leaves the HTTP response unaffected when the relay stops mid-stream, and completes the relay stream once it is back', async () => {
      const store = memoryStore();
      stores.push(store);
      const first = await startRelay(keptStore(store));
      // The app knows the relay by one address. The relay comes back behind it on a new port: listening
      // again on the port it gave up could fail when another process took it meanwhile.
      const address = await startTcpProxy(first.port);
      proxies.push(address);
      const streamId = nextId('restart');
      const client = await openSse(chatUrl(address.url, streamId, { pauseEvery: 4 }));
      await client.waitForEvents(300);
      await first.relay.close();
      await sleep(150); // the app's producer retries meanwhile: nothing listens behind the address
      const second = await startRelay(keptStore(store));
      address.setTarget(second.port);
      expect(await client.finished).toEqual({ complete: true });
      expect(payloads(client).map((event) => JSON.parse(event.data))).toEqual(expectedTexts(2_000));
      const { finish } = await finishOf(streamId);
      expect(finish).toMatchObject({ chunks: 2_000, relay: 'ok' });
      expect(await readFromRelay(second.url, streamId)).toEqual({ data: expectedTexts(2_000), endReason: 'completed', error: undefined });
    });

    it('ends the relay stream with producer-error, errors the HTTP body and calls onError when the source throws', async () => {
      const { url } = await startRelay();
      const streamId = nextId('throws');
      const client = await openSse(chatUrl(url, streamId, { throwAt: 50 }));
      expect(await client.finished).toEqual({ complete: false });
      expect(payloads(client).map((event) => JSON.parse(event.data))).toEqual(expectedTexts(50));
      expect(client.events.some((event) => event.event === 'end')).toBe(false);
      const { finish, errors } = await finishOf(streamId);
      expect(finish).toMatchObject({ chunks: 50, error: 'PRODUCER_ERROR', relay: 'ok', response: 'errored' });
      expect(errors).toEqual(['PRODUCER_ERROR']);
      expect(await readFromRelay(url, streamId)).toEqual({ data: expectedTexts(50), endReason: 'producer-error', error: 'PRODUCER_ERROR' });
    });

    const postToken = (body: string, path = '/token') =>
      fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('tokenHandler: an authorized request gets a token that reads that stream only', async () => {
      const { url } = await startRelay();
      const streamId = `allowed-${nextId('read')}`;
      const other = nextId('other');
      const response = await postToken(JSON.stringify({ streamIds: [streamId] }));
      expect(response.status).toBe(200);
      const { token } = (await response.json()) as { token: string };
      expect((await verifyClientToken(token, { apiKeys: [API_KEY] })).streamIds).toEqual([streamId]);
      await (await fetch(chatUrl(url, streamId, { count: 3 }))).text();
      await (await fetch(chatUrl(url, other, { count: 3 }))).text();
      // The HTTP body may end before the relay has the stream (the tee does not wait for the relay):
      // read once the app reports it finished there too.
      expect((await finishOf(streamId)).finish.relay).toBe('ok');
      const read = async (id: string) => {
        const reader = streamstraightClient<string>({ baseUrl: url, token, retries: 0 }, { streamId: id });
        try {
          const data: string[] = [];
          for await (const chunk of reader) data.push(chunk);
          return data;
        } finally {
          reader.close();
        }
      };
      expect(await read(streamId)).toEqual(expectedTexts(3));
      await expect(read(other)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });

    it('tokenHandler: an unauthorized request gets 403', async () => {
      const response = await postToken(JSON.stringify({ streamIds: ['allowed-1', 'someone-elses'] }));
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'Not allowed to read stream someone-elses.' } });
    });

    it('tokenHandler: a malformed body gets 400 with a message', async () => {
      for (const body of ['not json', '{}', '{"streamIds":"allowed-1"}', '{"streamIds":["bad id"]}']) {
        const response = await postToken(body);
        expect(response.status, body).toBe(400);
        const payload = (await response.json()) as { error: { code: string; message: string } };
        expect(payload.error.message, body).toMatch(/Malformed token request/);
      }
    });
    const activeStreamUrl = (chatId: string, streamId?: string) =>
      `${app.url}/chats/${encodeURIComponent(chatId)}/stream${streamId === undefined ? '' : `?streamId=${encodeURIComponent(streamId)}`}`;

    it('activeStreamHandler: 204 for a chat with no active stream', async () => {
      const response = await fetch(activeStreamUrl(nextId('no-chat')));
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
    });

    it("activeStreamHandler: an open stream answers { streamId, token, relayUrl } and the token reads it from the relay", async () => {
      const { url } = await startRelay();
      const chatId = nextId('chat');
      const streamId = nextId('answer');
      const client = await openSse(chatUrl(url, streamId, { chat: chatId, count: 400, pauseEvery: 5 }));
      await client.waitForEvents(5);
      // The relay may not have opened the stream the instant the first bytes reach the client.
      const response = await waitFor(() => fetch(activeStreamUrl(chatId)), (answer) => answer.status === 200, 'an active-stream grant');
      const grant = (await response.json()) as { streamId: string; token: string; relayUrl: string };
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(grant).toMatchObject({ streamId, relayUrl: url });
      expect((await verifyClientToken(grant.token, { apiKeys: [API_KEY] })).streamIds).toEqual([streamId]);
      const reader = streamstraightClient<string>({ baseUrl: grant.relayUrl, token: grant.token, retries: 0 }, { streamId });
      const data: string[] = [];
      for await (const chunk of reader) data.push(chunk);
      expect(data).toEqual(expectedTexts(400));
      await client.finished;
    });

    it('activeStreamHandler: an ended stream is 204 on page load, but still granted when asked for by id (the tail of a broken response)', async () => {
      const { url } = await startRelay();
      const chatId = nextId('chat');
      const streamId = nextId('answer');
      await (await fetch(chatUrl(url, streamId, { chat: chatId, count: 3 }))).text();
      expect((await finishOf(streamId)).finish.relay).toBe('ok');
      expect((await fetch(activeStreamUrl(chatId))).status).toBe(204);
      const byId = await fetch(activeStreamUrl(chatId, streamId));
      expect(byId.status).toBe(200);
      expect(((await byId.json()) as { streamId: string }).streamId).toBe(streamId);
    });

    it("activeStreamHandler: another stream than the chat's active one is 403; a malformed id is 400", async () => {
      const { url } = await startRelay();
      const chatId = nextId('chat');
      const streamId = nextId('answer');
      await (await fetch(chatUrl(url, streamId, { chat: chatId, count: 3 }))).text();
      const other = await fetch(activeStreamUrl(chatId, nextId('someone-elses')));
      expect(other.status).toBe(403);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      const malformed = await fetch(activeStreamUrl(chatId, 'bad id'));
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'INVALID_STREAM_ID' });
      await finishOf(streamId);
    });
  });
}
