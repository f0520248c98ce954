// The tee against a stub relay (core cannot depend on @ss/relay): both branches, the detach rules,
// both buffer limits, the body formats and the ways a source stops. The adapters' contract suite
// runs the same guarantees end to end through real frameworks and the real relay.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type StubRelay, startStubRelay } from '../../test/support/stub-relay.js';
import { StreamstraightError } from '../errors.js';
import { pooledConnectionCount } from '../producer/connection-pool.js';
import type { BodyFormat } from './body-format.js';
import { type TeeOptions, type TeeResult, teeStream } from './tee-stream.js';

const relays: StubRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  // A pooled connection to a closed relay leaves the pool once it sees the close (retries is 0).
  // Wait for that: the OS may give the next test's relay the same port, and a stale connection
  // handed to it would fail its stream with "transport close".
  await vi.waitFor(() => expect(pooledConnectionCount()).toBe(0), { timeout: 5_000 });
});

async function stubRelay(): Promise<StubRelay> {
  const relay = await startStubRelay();
  relays.push(relay);
  return relay;
}

let streamCounter = 0;
function options<T>(relay: StubRelay, extra: Partial<TeeOptions<T>> = {}): TeeOptions<T> & { streamId: string } {
  return { apiKey: 'k', baseUrl: relay.url, streamId: `tee-${++streamCounter}`, retries: 0, ...extra };
}

/** `count` string tokens; pauses a macrotask every `every` tokens; records how far it was read. */
function tokens(count: number, every = 50, progress = { read: 0, finalized: false }) {
  return Object.assign(
    (async function* () {
      try {
        for (let index = 0; index < count; index++) {
          if (index % every === 0) await sleep(0);
          progress.read++;
          yield `t${index} `;
        }
      } finally {
        progress.finalized = true;
      }
    })(),
    { progress },
  );
}

const expectedTokens = (count: number) => Array.from({ length: count }, (_, index) => `t${index} `);

function parseSse(text: string): Array<{ id?: string; event?: string; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const event: { id?: string; event?: string; data: string } = { data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(': ');
        const value = rest.join(': ');
        if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
        else if (field === 'data') data.push(value);
      }
      event.data = data.join('\n');
      return event;
    });
}

describe('teeStream', () => {
  it('sends every chunk to the SSE body (id = seq) and to the relay, identically, then ends both', async () => {
    const relay = await stubRelay();
    const onFinish = vi.fn();
    const tee = teeStream(tokens(2_000), options(relay, { onFinish }));
    expect(tee.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'x-stream-id': tee.streamId,
      'access-control-expose-headers': 'x-stream-id',
      'cache-control': 'no-cache, no-transform',
    });
    const events = parseSse(await new Response(tee.body).text());
    const result = await tee.done;
    const chunks = events.filter((event) => event.event === undefined);
    expect(chunks.map((event) => event.id)).toEqual(expectedTokens(2_000).map((_, index) => String(index)));
    expect(chunks.map((event) => JSON.parse(event.data))).toEqual(expectedTokens(2_000));
    expect(events.at(-1)).toEqual({ event: 'end', data: JSON.stringify({ reason: 'completed', lastSeq: 1_999 }) });
    expect(relay.streams.get(tee.streamId)?.chunks).toEqual(expectedTokens(2_000).map((token) => JSON.stringify(token)));
    expect(relay.streams.get(tee.streamId)?.end).toEqual({ reason: 'completed', lastSeq: 1_999 });
    expect(result).toMatchObject({ streamId: tee.streamId, lastSeq: 1_999, cancelled: false, error: undefined, relay: 'ok', response: 'completed' });
    expect(result.text).toBe(expectedTokens(2_000).join(''));
    expect(onFinish).toHaveBeenCalledTimes(1);
    expect(onFinish).toHaveBeenCalledWith(result);
  });

  it('cancelling the body detaches only the HTTP branch: the source is read to the end and the relay completes', async () => {
    const relay = await stubRelay();
    const source = tokens(1_000, 10);
    const onFinish = vi.fn();
    const tee = teeStream(source, options(relay, { onFinish }));
    const reader = tee.body.getReader();
    await reader.read();
    await reader.cancel('browser went away');
    const result = await tee.done;
    expect(source.progress.read).toBe(1_000);
    expect(result).toMatchObject({ relay: 'ok', response: 'disconnected', cancelled: false, lastSeq: 999 });
    expect(result.text).toBe(expectedTokens(1_000).join(''));
    expect(relay.streams.get(result.streamId)?.chunks).toHaveLength(1_000);
    expect(relay.streams.get(result.streamId)?.end?.reason).toBe('completed');
    expect(onFinish).toHaveBeenCalledTimes(1);
  });

  it('a source that throws errors the body after the chunks before it, ends the relay with producer-error and calls onError', async () => {
    const relay = await stubRelay();
    const onError = vi.fn();
    const onFinish = vi.fn();
    async function* failing() {
      yield 'a';
      yield 'b';
      await sleep(1);
      throw new Error('model overloaded');
    }
    const tee = teeStream(failing(), options(relay, { onError, onFinish }));
    const reader = tee.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += decoder.decode(value);
        }
      })(),
    ).rejects.toMatchObject({ code: 'PRODUCER_ERROR' });
    expect(parseSse(text).map((event) => event.data)).toEqual(['"a"', '"b"']);
    const result = await tee.done;
    expect(result.error).toMatchObject({ code: 'PRODUCER_ERROR', message: expect.stringContaining('model overloaded') });
    expect(result).toMatchObject({ relay: 'ok', response: 'errored', text: 'ab' });
    expect(relay.streams.get(result.streamId)).toEqual({ chunks: ['"a"', '"b"'], end: { reason: 'producer-error', lastSeq: 1 } });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'PRODUCER_ERROR' });
    expect(onFinish).toHaveBeenCalledTimes(1);
  });

  it("the app's signal stops the source on purpose: relay end cancelled, SSE end cancelled", async () => {
    const relay = await stubRelay();
    const controller = new AbortController();
    const source = tokens(100_000, 5);
    const tee = teeStream(source, options(relay, { signal: controller.signal }));
    const reader = tee.body.getReader();
    await reader.read();
    controller.abort();
    const rest = await new Response(new ReadableStream({ pull: async (c) => { const { done, value } = await reader.read(); if (done) c.close(); else c.enqueue(value); } })).text();
    const result = await tee.done;
    expect(source.progress.finalized).toBe(true);
    expect(source.progress.read).toBeLessThan(100_000);
    expect(result.cancelled).toBe(true);
    expect(parseSse(rest).at(-1)).toEqual({ event: 'end', data: JSON.stringify({ reason: 'cancelled', lastSeq: result.lastSeq }) });
    expect(relay.streams.get(result.streamId)?.end).toEqual({ reason: 'cancelled', lastSeq: result.lastSeq });
    expect(relay.streams.get(result.streamId)?.chunks).toHaveLength(result.lastSeq + 1);
  });

  it("a reader's cancel through the relay stops the source; the relay stream ends cancelled", async () => {
    const relay = await stubRelay();
    const source = tokens(100_000, 5);
    const onCancel = vi.fn();
    const tee = teeStream(source, options(relay, { onCancel }));
    const body = new Response(tee.body).text();
    await vi.waitUntil(() => (relay.streams.get(tee.streamId)?.chunks.length ?? 0) > 10, { timeout: 10_000 });
    relay.cancel(tee.streamId);
    const result = await tee.done;
    await body;
    expect(source.progress.finalized).toBe(true);
    expect(result.cancelled).toBe(true);
    expect(relay.streams.get(tee.streamId)?.end?.reason).toBe('cancelled');
    // onCancel is how an app aborts its model call (streamText's abortSignal): once, with the code.
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onCancel.mock.calls[0]?.[0]).toMatchObject({ code: 'STREAM_CANCELLED' });
  });

  it("the app's own signal does not call onCancel (it is for a reader's cancel)", async () => {
    const relay = await stubRelay();
    const controller = new AbortController();
    const onCancel = vi.fn();
    const tee = teeStream(tokens(100_000, 5), options(relay, { signal: controller.signal, onCancel }));
    const body = new Response(tee.body).text();
    await vi.waitUntil(() => (relay.streams.get(tee.streamId)?.chunks.length ?? 0) > 10, { timeout: 10_000 });
    controller.abort();
    expect((await tee.done).cancelled).toBe(true);
    await body;
    expect(onCancel).not.toHaveBeenCalled();
  });

  it('cuts the response of a client that does not read beyond responseBufferBytes; the relay is unaffected', async () => {
    const relay = await stubRelay();
    const source = tokens(2_000, 100);
    const tee = teeStream(source, options(relay, { responseBufferBytes: 1024 }));
    const result = await tee.done; // nobody reads the body
    expect(result).toMatchObject({ response: 'overflowed', relay: 'ok', lastSeq: 1_999 });
    expect(relay.streams.get(tee.streamId)?.chunks).toHaveLength(2_000);
    await expect(tee.body.getReader().read()).rejects.toMatchObject({ code: 'CLOSED', message: expect.stringContaining('too slowly') });
  });

  it('gives the relay branch up (reported, never silent) when it falls behind by the relay buffer while a client reads', async () => {
    const relay = await stubRelay();
    relay.holdAcks = true;
    const onError = vi.fn();
    const tee = teeStream(tokens(200, 10), options(relay, { relayBufferChunks: 20, onError }));
    const text = await new Response(tee.body).text();
    expect(parseSse(text).filter((event) => event.event === undefined)).toHaveLength(200); // the response did not wait
    const result = await tee.done;
    expect(result.relay).toMatchObject({ code: 'RELAY_UNAVAILABLE', message: expect.stringContaining('relay buffer') });
    expect(onError).toHaveBeenCalledWith(result.relay);
    relay.releaseAcks();
    const stored = await relay.ended(tee.streamId);
    expect(stored.end?.reason).toBe('producer-error');
    expect(stored.chunks).toEqual(expectedTokens(stored.chunks.length).map((token) => JSON.stringify(token))); // a consistent prefix
  });

  it('also bounds the relay buffer in bytes (relayBufferBytes)', async () => {
    const relay = await stubRelay();
    relay.holdAcks = true;
    const tee = teeStream(tokens(200, 10), options(relay, { relayBufferBytes: 100 }));
    await new Response(tee.body).text();
    const result = await tee.done;
    expect(result.relay).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    relay.releaseAcks();
    const stored = await relay.ended(tee.streamId);
    expect(stored.chunks.length).toBeLessThanOrEqual(20); // ~100 bytes of 5-6 byte chunks (+ the one that overflowed), then given up
  });

  it('with no client attached, waits for a slow relay instead of giving it up', async () => {
    const relay = await stubRelay();
    relay.holdAcks = true;
    const source = tokens(200, 10);
    const tee = teeStream(source, options(relay, { relayBufferChunks: 20 }));
    await tee.body.cancel();
    await vi.waitUntil(() => source.progress.read >= 21, { timeout: 10_000 });
    await sleep(50);
    expect(source.progress.read).toBeLessThan(200); // waiting for the relay
    const releasing = setInterval(() => relay.releaseAcks(), 5);
    const result = await tee.done.finally(() => clearInterval(releasing));
    expect(result).toMatchObject({ relay: 'ok', response: 'disconnected', lastSeq: 199 });
    expect(relay.streams.get(tee.streamId)?.chunks).toHaveLength(200);
  });

  it('completes the HTTP response when the relay is unreachable, and reports it in done and onError', async () => {
    const relay = await stubRelay();
    const url = relay.url;
    await relay.close();
    const onError = vi.fn();
    const tee = teeStream(tokens(100), { apiKey: 'k', baseUrl: url, retries: 0, onError });
    const events = parseSse(await new Response(tee.body).text());
    expect(events.filter((event) => event.event === undefined)).toHaveLength(100);
    const result = await tee.done;
    expect(result.relay).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect(result.response).toBe('completed');
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('without onError, logs a relay failure once per stream (never silent)', async () => {
    const relay = await stubRelay();
    const url = relay.url;
    await relay.close();
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const tee = teeStream(tokens(20), { apiKey: 'k', baseUrl: url, retries: 0, streamId: 'unheard-stream' });
      await new Response(tee.body).text();
      expect((await tee.done).relay).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
      const lines = logged.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('unheard-stream'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/relay stream unheard-stream failed \(RELAY_UNAVAILABLE\).*pass onError/);
    } finally {
      logged.mockRestore();
    }
  });

  it('gives the relay branch up on a chunk over the relay limit instead of shifting later seqs', async () => {
    const relay = await stubRelay();
    const tee = teeStream(['small', 'x'.repeat(2_000), 'after'], options(relay, { maxChunkBytes: 1_000 }));
    const events = parseSse(await new Response(tee.body).text());
    expect(events.filter((event) => event.event === undefined)).toHaveLength(3);
    const result = await tee.done;
    expect(result.relay).toMatchObject({ code: 'CHUNK_TOO_LARGE' });
    const stored = await relay.ended(tee.streamId);
    expect(stored).toEqual({ chunks: ['"small"'], end: { reason: 'producer-error', lastSeq: 0 } });
  });

  it('skips chunks the encoder skips in both branches, so SSE ids stay equal to relay seqs', async () => {
    const relay = await stubRelay();
    const encoder = (chunk: string) => (chunk === 'skip' ? '' : chunk.toUpperCase());
    const tee = teeStream(['a', 'skip', 'b'], options(relay, { encoder }));
    const events = parseSse(await new Response(tee.body).text());
    expect(events.slice(0, 2)).toEqual([
      { id: '0', data: 'A' },
      { id: '1', data: 'B' },
    ]);
    const result = await tee.done;
    expect(result.chunks).toEqual(['a', 'b']);
    expect(relay.streams.get(tee.streamId)?.chunks).toEqual(['A', 'B']);
  });

  it('writes plain text, NDJSON and custom formats', async () => {
    const relay = await stubRelay();
    const parts = [
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Hel' },
      { type: 'text-delta', id: 't', text: 'lo' },
      { type: 'finish' },
    ];
    const text = teeStream(['Hel', 'lo', '!'], options(relay, { format: 'text' }));
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await new Response(text.body).text()).toBe('Hello!');
    const uiText = teeStream(parts, options(relay, { format: 'text' }));
    expect(await new Response(uiText.body).text()).toBe('Hello');
    expect((await uiText.done).text).toBe('Hello');
    expect((await uiText.done).chunks).toEqual(parts);
    const ndjson = teeStream(parts, options(relay, { format: 'ndjson' }));
    expect(ndjson.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect((await new Response(ndjson.body).text()).trim().split('\n').map((line) => JSON.parse(line))).toEqual(parts);
    const custom: BodyFormat<string> = { contentType: 'text/x-custom', chunk: (chunk, seq) => `${seq}:${chunk};`, end: ({ lastSeq }) => `end@${lastSeq}` };
    const own = teeStream(['a', 'b'], options(relay, { format: custom }));
    expect(own.headers['content-type']).toBe('text/x-custom');
    expect(await new Response(own.body).text()).toBe('0:a;1:b;end@1');
    await Promise.all([text.done, ndjson.done, own.done]);
  });

  it("writes the AI SDK's UI message stream: id = seq, data = the chunk's JSON, then [DONE], with its headers", async () => {
    const relay = await stubRelay();
    const parts = [
      { type: 'start', messageId: 'm1' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'line one\nline two' },
      { type: 'text-end', id: 't' },
      { type: 'finish' },
    ];
    const tee = teeStream(parts, options(relay, { format: 'ui-message-stream', headers: { 'x-extra': '1' } }));
    expect(tee.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-vercel-ai-ui-message-stream': 'v1',
      'x-accel-buffering': 'no',
      'x-stream-id': tee.streamId,
      'x-extra': '1',
    });
    const text = await new Response(tee.body).text();
    // The JSON of a chunk never holds a raw line break, so each event is exactly one data line.
    expect(text).toBe(
      `${parts.map((part, seq) => `id: ${seq}\ndata: ${JSON.stringify(part)}\n\n`).join('')}data: [DONE]\n\n`,
    );
    await tee.done;
    expect(relay.streams.get(tee.streamId)?.chunks).toEqual(parts.map((part) => JSON.stringify(part)));
  });

  it('reads an AI SDK–style result through its textStream, and accepts ReadableStreams', async () => {
    const relay = await stubRelay();
    const textStream = new ReadableStream<string>({
      start(controller) {
        for (const part of ['Hi', ' there']) controller.enqueue(part);
        controller.close();
      },
    });
    const result = { textStream, fullStream: 'not read', toUIMessageStream: () => 'not called' };
    const tee = teeStream(result, options(relay, { format: 'text' }));
    expect(await new Response(tee.body).text()).toBe('Hi there');
    expect((await tee.done).text).toBe('Hi there');
    expect(relay.streams.get(tee.streamId)?.chunks).toEqual(['"Hi"', '" there"']);
  });

  it('starts the HTTP branch without waiting for the relay connection', async () => {
    const relay = await stubRelay();
    relay.holdAcks = true;
    const tee = teeStream(['first'], options(relay));
    const reader = tee.body.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('id: 0\ndata: "first"\n\n');
    relay.releaseAcks();
    await reader.cancel();
    expect((await tee.done).relay).toBe('ok');
  });

  it('calls onFinish exactly once, waits for it, and routes its failure to onError', async () => {
    const relay = await stubRelay();
    const order: string[] = [];
    const onError = vi.fn();
    const tee = teeStream(['a'], options(relay, {
      onFinish: async (result: TeeResult<string>) => {
        await sleep(20);
        order.push(`saved ${result.text}`);
        throw new Error('database down');
      },
      onError,
    }));
    await new Response(tee.body).text();
    await tee.done;
    order.push('done');
    expect(order).toEqual(['saved a', 'done']);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'database down' }));
  });

  it('refuses bad input at once', async () => {
    const relay = await stubRelay();
    expect(() => teeStream(['a'], { apiKey: '', baseUrl: relay.url })).toThrow(StreamstraightError);
    expect(() => teeStream('text' as never, options(relay))).toThrow(/not a string/);
    expect(() => teeStream(['a'], options(relay, { streamId: 'bad id' }))).toThrow(expect.objectContaining({ code: 'INVALID_STREAM_ID' }));
    expect(() => teeStream(['a'], options(relay, { format: 'xml' as never }))).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => teeStream(['a'], options(relay, { responseBufferBytes: 0 }))).toThrow(/responseBufferBytes/);
  });

  it('generates a stream id when none is given', async () => {
    const relay = await stubRelay();
    const tee = teeStream(['a'], { apiKey: 'k', baseUrl: relay.url, retries: 0 });
    expect(tee.streamId).toMatch(/^[0-9a-f-]{36}$/);
    await new Response(tee.body).text();
    expect((await tee.done).relay).toBe('ok');
  });
});
