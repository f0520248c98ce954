import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamstraightClient } from '@ss/client';
import { mintClientToken, streamstraightServer } from '@ss/core';
import { createRelay } from '@ss/relay';
import { afterEach, describe, expect, it } from 'vitest';
import { ReaderLinks } from './reader-link';

const apiKey = 'reader-link-test-key';
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A relay, and a web server that forwards reader links to it. */
async function setup(): Promise<{ webUrl: string; links: ReaderLinks; relayUrl: string }> {
  const relay = createRelay({ apiKeys: [apiKey] });
  const { url: relayUrl } = await relay.listen(0);
  cleanups.push(() => relay.close());
  const links = new ReaderLinks(relayUrl);
  const web: Server = createServer((request, response) => {
    if (!links.handleRequest(request, response)) response.writeHead(404).end();
  });
  web.on('upgrade', (request, socket, head) => {
    if (!links.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    links.close();
    web.closeAllConnections();
    await new Promise((resolve) => web.close(resolve));
  });
  return { webUrl: `http://127.0.0.1:${(web.address() as AddressInfo).port}`, links, relayUrl };
}

describe('ReaderLinks', () => {
  it('carries a reader to the relay, and a drop cuts its socket: the reader resumes with every chunk once', async () => {
    const { webUrl, relayUrl } = await setup();
    const streamId = 'link-test-1';
    const server = await streamstraightServer({ apiKey, baseUrl: relayUrl }, { streamId });
    cleanups.push(() => server.disconnect());
    const writer = server.streamWriter<number>();
    const token = await mintClientToken({ apiKey, streamIds: [streamId] });
    const statuses: string[] = [];
    const reader = streamstraightClient<number>(
      { baseUrl: `${webUrl}/relay/link/tab1`, token, retryBaseMs: 50, retryMaxMs: 200 },
      { streamId, waitForStreamMs: 5000, onStatus: (status) => statuses.push(status) },
    );
    cleanups.push(async () => reader.close());

    const producing = (async () => {
      for (let index = 0; index < 100; index++) {
        await writer.send(index);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await writer.close();
    })();
    const received: number[] = [];
    for await (const value of reader) {
      received.push(value);
      if (received.length === 30) {
        const response = await fetch(`${webUrl}/relay/link/tab1/drop?downMs=300`, { method: 'POST' });
        expect(await response.json()).toEqual({ dropped: 1 });
      }
    }
    await producing;
    expect(received).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(statuses).toContain('resuming');
    expect(reader.endReason).toBe('completed');
  });

  it('cuts only the link it is asked to, and answers 404 for anything but POST …/drop', async () => {
    const { webUrl, links } = await setup();
    expect(links.drop('nobody')).toBe(0);
    expect((await fetch(`${webUrl}/relay/link/tab1/drop`)).status).toBe(404);
    expect((await fetch(`${webUrl}/relay/link/tab1/other`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${webUrl}/elsewhere`, { method: 'POST' })).status).toBe(404);
  });
});
