// @ss/client over Server-Sent Events: `transport: 'sse'` through real TCP cuts (exactly once),
// token refresh, waiting for a stream, and `auto` falling back to SSE behind a proxy that refuses
// WebSocket upgrades.
import { describe, expect, it } from 'vitest';
import { startTcpProxy } from '../../relay/test/support/tcp-proxy.js';
import { type ReaderStatus, streamstraightClient } from '../src/index.js';
import { until } from './support/relay-fixture.js';
import { readAll, startRelayWithProducer, useCleanups } from './support/test-scope.js';
import { startWebSocketBlockingProxy } from './support/websocket-blocking-proxy.js';

const defer = useCleanups();

describe("transport: 'sse'", () => {
  it('reads a live stream through four TCP cuts: every chunk exactly once, in order, resuming at the next chunk', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    const proxy = await startTcpProxy(fixture.port);
    defer(() => proxy.close());
    await producer.open('sse-cuts');
    const token = await fixture.mint(['sse-cuts']);
    const statuses: ReaderStatus[] = [];
    const reader = streamstraightClient<string>(
      { baseUrl: proxy.url, token, transport: 'sse', retryBaseMs: 10 },
      { streamId: 'sse-cuts', onStatus: (status) => statuses.push(status) },
    );
    defer(() => reader.close());
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of reader) received.push(chunk);
    })();
    const expected: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      const data = Array.from({ length: 10 }, (_, index) => `c${batch * 10 + index}`);
      expected.push(...data);
      await producer.write('sse-cuts', data.map((text) => JSON.stringify(text)));
      if (batch % 10 === 5) {
        await until(() => received.length >= expected.length - 10, 5_000, 'the reader to catch up');
        proxy.dropConnections();
      }
    }
    await producer.end('sse-cuts');
    await reading;
    expect(received).toEqual(expected);
    expect(reader.status).toBe('ended');
    expect(reader.endReason).toBe('completed');
    expect(statuses.filter((status) => status === 'resuming').length).toBeGreaterThanOrEqual(4);
    expect(fixture.readerConnections).toBe(0); // never touched Socket.IO
  });

  it('fetches a new token once the relay refuses one, and waits for a stream that does not exist yet', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    const tokens = ['not.a.token', await fixture.mint(['later'])];
    let fetched = 0;
    const reader = streamstraightClient<string>(
      { baseUrl: fixture.url, transport: 'sse', retryBaseMs: 10, fetchToken: async () => tokens[Math.min(fetched++, 1)]! },
      { streamId: 'later', waitForStreamMs: 10_000 },
    );
    defer(() => reader.close());
    const text = readAll(reader);
    await until(() => fetched >= 2, 5_000, 'the token refresh');
    await producer.open('later');
    await producer.write('later', ['"a"', '"b"']);
    await producer.end('later');
    expect(await text).toBe('ab');
    expect(fetched).toBe(2);
  });

  it('refuses a token for another stream with FORBIDDEN', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    await producer.open('mine');
    const reader = streamstraightClient<string>({ baseUrl: fixture.url, transport: 'sse', token: await fixture.mint(['other']) }, { streamId: 'mine' });
    await expect(readAll(reader)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('cancel() over HTTP reaches the producer (mux:cancel); a token without the cancel scope gets FORBIDDEN', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    await producer.open('to-cancel');
    await producer.write('to-cancel', ['"a"']);
    const readOnly = streamstraightClient<string>({ baseUrl: fixture.url, transport: 'sse', token: await fixture.mint(['to-cancel']) }, { streamId: 'to-cancel' });
    defer(() => readOnly.close());
    await expect(readOnly.cancel('stop')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const reader = streamstraightClient<string>({ baseUrl: fixture.url, transport: 'sse', token: await fixture.mint(['to-cancel'], { cancel: true }) }, { streamId: 'to-cancel' });
    defer(() => reader.close());
    await reader.cancel('enough');
    await until(() => producer.cancels.some((cancel) => cancel.streamId === 'to-cancel' && cancel.reason === 'enough'), 5_000, 'the mux:cancel');
    await producer.end('to-cancel', 'cancelled');
    const chunks: string[] = [];
    for await (const chunk of reader) chunks.push(chunk);
    expect(chunks).toEqual(['a']);
    expect(reader.endReason).toBe('cancelled');
  });
});

describe("transport: 'auto'", () => {
  it('falls back to SSE when a proxy refuses the WebSocket upgrade, and reads everything once', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    const proxy = await startWebSocketBlockingProxy(fixture.port);
    defer(() => proxy.close());
    await producer.open('blocked');
    await producer.write('blocked', ['"x"', '"y"']);
    const reader = streamstraightClient<string>({ baseUrl: proxy.url, token: await fixture.mint(['blocked']), retryBaseMs: 10 }, { streamId: 'blocked' });
    defer(() => reader.close());
    const text = readAll(reader);
    await until(() => proxy.paths.includes('/v1/streams/blocked/events'), 5_000, 'the SSE request');
    await producer.write('blocked', ['"z"']);
    await producer.end('blocked');
    expect(await text).toBe('xyz');
    expect(proxy.upgradesRefused).toBeGreaterThanOrEqual(1);
  });

  it('stays on the WebSocket when it connects', async () => {
    const { fixture, producer } = await startRelayWithProducer(defer);
    await producer.open('direct');
    const reader = streamstraightClient<string>({ baseUrl: fixture.url, token: await fixture.mint(['direct']) }, { streamId: 'direct' });
    const text = readAll(reader);
    await producer.write('direct', ['"1"', '"2"']);
    await producer.end('direct');
    expect(await text).toBe('12');
    expect(fixture.readerConnections).toBe(1);
  });
});
