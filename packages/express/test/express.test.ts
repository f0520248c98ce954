// The adapter contract against real Express 5 and Express 4 servers, plus what is Express-specific:
// tokenHandler behind express.json().
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import expressV4 from 'express-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeStreamHandler, streamResponse, tokenHandler } from '../src/index.js';
import { API_KEY, type AdapterApp, activeStreamOptions, adapterContract, chatRequest, eventLog } from './support/adapter-contract.js';

async function startExpress(createApp: typeof express): Promise<AdapterApp> {
  const app = createApp();
  const log = eventLog();
  const authorize = (_req: express.Request, streamId: string) => streamId.startsWith('allowed-');
  app.get('/chat', (req, res) => {
    const { source, options } = chatRequest(new URL(req.url, 'http://app').searchParams, log.record);
    void streamResponse(req, res, source, options);
  });
  app.post('/token', tokenHandler({ apiKey: API_KEY, authorize }));
  app.post('/token-json', createApp.json(), tokenHandler({ apiKey: API_KEY, authorize }));
  // A handler per request only because each test chat has its own relay; an app makes one.
  app.get('/chats/:id/stream', (req, res, next) => activeStreamHandler(activeStreamOptions(String(req.params.id)))(req, res, next));
  app.get('/events', (req, res) => {
    res.json(log.of(String(req.query.id)));
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

adapterContract('Express 5', () => startExpress(express));
adapterContract('Express 4', () => startExpress(expressV4));

for (const [name, createApp] of [
  ['Express 5', express],
  ['Express 4', expressV4],
] as const) {
  describe(`${name}: tokenHandler behind express.json()`, () => {
    let app: AdapterApp;
    beforeAll(async () => {
      app = await startExpress(createApp);
    });
    afterAll(() => app.close());
    const post = (body: string) => fetch(`${app.url}/token-json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    it('reads the body express.json() already parsed', async () => {
      const response = await post('{"streamIds":["allowed-json"]}');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ token: expect.any(String) });
      expect((await post('{"streamId":"not-allowed"}')).status).toBe(403);
      const malformed = await post('{"streamIds":[]}');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: { message: string } }).error.message).toMatch(/non-empty array/);
    });
  });
}
