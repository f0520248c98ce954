// The adapter contract against a real Hono app on @hono/node-server, plus what is Hono-specific:
// waitUntil on runtimes with an execution context, and c.header() headers kept.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { API_KEY, type AdapterApp, activeStreamOptions, adapterContract, chatRequest, eventLog } from '../../express/test/support/adapter-contract.js';
import { activeStreamHandler, streamResponse, tokenHandler } from '../src/index.js';

function honoApp() {
  const app = new Hono();
  const log = eventLog();
  app.get('/chat', (c) => {
    const { source, options } = chatRequest(new URL(c.req.url).searchParams, log.record);
    return streamResponse(c, source, options);
  });
  app.post('/token', tokenHandler({ apiKey: API_KEY, authorize: (_c, streamId) => streamId.startsWith('allowed-') }));
  app.get('/events', (c) => c.json(log.of(c.req.query('id') ?? '')));
  // A handler per request only because each test chat has its own relay; an app makes one.
  app.get('/chats/:id/stream', (c) => activeStreamHandler(activeStreamOptions(c.req.param('id')))(c));
  return app;
}

async function startHono(): Promise<AdapterApp> {
  const app = honoApp();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

adapterContract('Hono', startHono);

describe('Hono: runtime integration', () => {
  it('hands done to executionCtx.waitUntil where the runtime has one (Workers), and keeps c.header() headers', async () => {
    const app = new Hono();
    app.get('/chat', (c) => {
      c.header('x-chat', 'kept');
      // No relay: the response must complete anyway, and done still settles (reporting the relay failure).
      return streamResponse(c, ['a', 'b'], { apiKey: API_KEY, baseUrl: 'http://127.0.0.1:9', retries: 0, streamId: 'worker-1' });
    });
    const waited: Promise<unknown>[] = [];
    const executionCtx = { waitUntil: (promise: Promise<unknown>) => waited.push(promise), passThroughOnException: () => {}, props: {} };
    const response = await app.fetch(new Request('http://worker/chat'), {}, executionCtx);
    expect(response.headers.get('x-chat')).toBe('kept');
    expect(response.headers.get('x-stream-id')).toBe('worker-1');
    expect(await response.text()).toBe('id: 0\ndata: "a"\n\nid: 1\ndata: "b"\n\nevent: end\ndata: {"reason":"completed","lastSeq":1}\n\n');
    expect(waited).toHaveLength(1);
    expect(await waited[0]).toMatchObject({ streamId: 'worker-1', text: 'ab', relay: { code: 'RELAY_UNAVAILABLE' } });
  });
});
