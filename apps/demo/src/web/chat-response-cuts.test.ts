// A real HTTP server and a real client: a chat response in flight is cut by destroying its socket,
// only for the tab that asked.
import { type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AI_CHAT_PATH, ChatResponseCuts } from './chat-response-cuts';
import { DEMO_TAB_HEADER } from './demo-tab';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** A server whose chat route streams a chunk every 20 ms, forever. */
async function start(): Promise<{ port: number; cuts: ChatResponseCuts }> {
  const cuts = new ChatResponseCuts();
  server = createServer((request, response) => {
    if (cuts.handleRequest(request, response)) return;
    cuts.track(request, response);
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setInterval(() => response.write('data: x\n\n'), 20);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server!.address() as AddressInfo).port, cuts };
}

/** POSTs to the chat route as `tabId`; resolves with how the response ended once some data came. */
function chat(port: number, tabId: string): { firstData: Promise<void>; ended: Promise<'end' | 'aborted'> } {
  let gotData: () => void = () => {};
  const firstData = new Promise<void>((resolve) => (gotData = resolve));
  const ended = new Promise<'end' | 'aborted'>((resolve) => {
    const request = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: AI_CHAT_PATH, headers: { [DEMO_TAB_HEADER]: tabId } }, (response) => {
      response.once('data', gotData);
      response.on('data', () => {});
      response.on('end', () => resolve('end'));
      response.on('aborted', () => resolve('aborted'));
      response.on('error', () => resolve('aborted'));
    });
    request.on('error', () => resolve('aborted'));
    request.end('{}');
  });
  return { firstData, ended };
}

describe('ChatResponseCuts', () => {
  it("cuts the tab's chat responses in flight (their sockets destroyed) and no other tab's", async () => {
    const { port } = await start();
    const mine = chat(port, 'tab-a');
    const other = chat(port, 'tab-b');
    await Promise.all([mine.firstData, other.firstData]);
    const response = await fetch(`http://127.0.0.1:${port}/demo/ai-responses/tab-a/cut`, { method: 'POST' });
    expect(await response.json()).toEqual({ cut: 1 });
    expect(await mine.ended).toBe('aborted');
    const stillStreaming = await Promise.race([other.ended, new Promise((resolve) => setTimeout(() => resolve('streaming'), 200))]);
    expect(stillStreaming).toBe('streaming');
  });

  it('answers { cut: 0 } for a tab with nothing in flight, and 404 for anything else under its prefix', async () => {
    const { port } = await start();
    expect(await (await fetch(`http://127.0.0.1:${port}/demo/ai-responses/nobody/cut`, { method: 'POST' })).json()).toEqual({ cut: 0 });
    expect((await fetch(`http://127.0.0.1:${port}/demo/ai-responses/nobody/cut`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/demo/ai-responses/bad%20id/cut`, { method: 'POST' })).status).toBe(404);
  });
});
