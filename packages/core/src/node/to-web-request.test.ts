import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toWebRequest } from './to-web-request.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ host: string; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

describe('toWebRequest', () => {
  it('carries the method, URL, headers and a streamed body', async () => {
    let seen: { method: string; url: string; custom: string | null; cookies: string | null; body: string } | undefined;
    const { host, port } = await serve(async (request, response) => {
      const web = toWebRequest(request, response);
      seen = { method: web.method, url: web.url, custom: web.headers.get('x-custom'), cookies: web.headers.get('cookie'), body: await web.text() };
      response.end('ok');
    });
    await new Promise<void>((resolve, reject) => {
      const request = httpRequest({ host, port, method: 'POST', path: '/api/chat?q=1', headers: { 'x-custom': 'yes', cookie: 'a=1' } }, (response) => {
        response.resume().on('end', resolve);
      });
      request.on('error', reject);
      request.write('{"streamIds":');
      setTimeout(() => request.end('["a"]}'), 20);
    });
    expect(seen).toEqual({ method: 'POST', url: `http://${host}:${port}/api/chat?q=1`, custom: 'yes', cookies: 'a=1', body: '{"streamIds":["a"]}' });
  });

  it('uses a replacement body when a middleware already consumed the request', async () => {
    let body: string | undefined;
    const { host, port } = await serve(async (request, response) => {
      for await (const _ of request); // a body parser read it
      body = await toWebRequest(request, response, { body: '{"parsed":true}' }).text();
      response.end();
    });
    await new Promise<void>((resolve) => httpRequest({ host, port, method: 'POST' }, (response) => response.resume().on('end', resolve)).end('{"raw":1}'));
    expect(body).toBe('{"parsed":true}');
  });

  it('aborts its signal when the client disconnects, and not after a finished response', async () => {
    const signals: AbortSignal[] = [];
    const { host, port } = await serve((request, response) => {
      signals.push(toWebRequest(request, response).signal);
      if (request.url === '/finish') response.end('done');
      else response.write('streaming…');
    });
    await new Promise<void>((resolve) => httpRequest({ host, port, path: '/finish' }, (response) => response.resume().on('end', resolve)).end());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signals[0]?.aborted).toBe(false);
    await new Promise<void>((resolve) => {
      const request = httpRequest({ host, port, path: '/stream' }, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.end();
    });
    await vi.waitUntil(() => signals[1]?.aborted === true, { timeout: 10_000 });
  });
});
