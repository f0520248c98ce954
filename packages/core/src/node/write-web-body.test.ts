// writeWebBody against a real HTTP server and a real client that really goes away: backpressure,
// a disconnect during a blocked write (the classic "waits for drain forever" bug), a disconnect
// while the body is idle, and a body that fails.
import { createHash } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeWebBody } from './write-web-body.js';
import { writeWebResponse } from './write-web-response.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => httpRequest(url, resolve).on('error', reject).end());
}

const CHUNK = 64 * 1024;
/** A body of `count` chunks of CHUNK bytes (byte i of chunk n is (n + i) % 251); `count` Infinity: endless. */
function chunkedBody(count: number, onCancel: () => void = () => {}) {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= count) return controller.close();
      const chunk = new Uint8Array(CHUNK);
      for (let index = 0; index < CHUNK; index++) chunk[index] = (sent + index) % 251;
      sent++;
      controller.enqueue(chunk);
    },
    cancel: onCancel,
  });
}

function hashOfChunks(count: number): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < count; sent++) {
    const chunk = new Uint8Array(CHUNK);
    for (let index = 0; index < CHUNK; index++) chunk[index] = (sent + index) % 251;
    hash.update(chunk);
  }
  return hash.digest('hex');
}

describe('writeWebBody', () => {
  it('writes everything to a slow client with backpressure, then ends the response', async () => {
    let drains = 0;
    let written: Promise<void> | undefined;
    const url = await serve((_request, response) => {
      response.on('drain', () => drains++);
      written = writeWebBody(chunkedBody(128), response); // 8 MiB: more than the socket buffers hold
    });
    const response = await get(url);
    response.pause();
    await sleep(200);
    const hash = createHash('sha256');
    for await (const chunk of response) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(hashOfChunks(128));
    expect(response.complete).toBe(true);
    await written;
    expect(drains).toBeGreaterThan(0);
  });

  it('returns when the client disconnects during a blocked write, cancels the body and removes its listeners', async () => {
    const cancel = vi.fn();
    let serverResponse: ServerResponse | undefined;
    let written: Promise<void> | undefined;
    let baseline: Record<string, number> = {};
    const url = await serve((_request, response) => {
      serverResponse = response;
      baseline = { drain: response.listenerCount('drain'), close: response.listenerCount('close'), error: response.listenerCount('error') };
      written = writeWebBody(chunkedBody(Number.POSITIVE_INFINITY, cancel), response);
    });
    const response = await get(url);
    response.pause(); // never read: the server's write() returns false and it waits
    await vi.waitUntil(() => serverResponse?.writableNeedDrain === true && serverResponse.listenerCount('drain') > baseline.drain!, { timeout: 5_000 });
    response.destroy();
    await expect(Promise.race([written, sleep(5_000).then(() => 'hung')])).resolves.toBeUndefined();
    expect(cancel).toHaveBeenCalledTimes(1);
    const response_ = serverResponse as ServerResponse;
    expect({ drain: response_.listenerCount('drain'), close: response_.listenerCount('close'), error: response_.listenerCount('error') }).toEqual(baseline);
  });

  it('cancels the body at once when the client leaves while the body has nothing to write', async () => {
    const cancel = vi.fn();
    let written: Promise<void> | undefined;
    const url = await serve((_request, response) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('first'));
        },
        pull: () => new Promise(() => {}), // an LLM that is still thinking
        cancel,
      });
      written = writeWebBody(body, response);
    });
    const response = await get(url);
    await new Promise((resolve) => response.once('data', resolve));
    response.destroy();
    await vi.waitUntil(() => cancel.mock.calls.length > 0, { timeout: 2_000 });
    await written;
  });

  it('delivers what was written, then cuts the response when the body errors, so the client never mistakes it for a complete one', async () => {
    let pulls = 0;
    const url = await serve((_request, response) => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          // small writes in the same tick are corked, not yet on the socket, when the error comes
          if (pulls < 10) controller.enqueue(new TextEncoder().encode(`chunk-${pulls++};`));
          else controller.error(new Error('source failed'));
        },
      });
      void writeWebBody(body, response);
    });
    const response = await get(url);
    let text = '';
    const outcome = await new Promise<string>((resolve) => {
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve('end'));
      response.on('error', () => resolve('error'));
      response.on('aborted', () => resolve('aborted'));
    });
    expect(text).toBe(Array.from({ length: 10 }, (_, index) => `chunk-${index};`).join('')); // everything written before the error arrives
    expect(outcome).not.toBe('end');
    expect(response.complete).toBe(false);
  });

  it('writeWebResponse sends the status, headers (several set-cookie too) and body', async () => {
    const url = await serve((_request, response) => {
      const headers = new Headers({ 'content-type': 'application/json', 'x-one': '1' });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      void writeWebResponse(new Response('{"ok":true}', { status: 201, headers }), response);
    });
    const response = await get(url);
    let text = '';
    for await (const chunk of response) text += chunk;
    expect(response.statusCode).toBe(201);
    expect(response.headers['x-one']).toBe('1');
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(text).toBe('{"ok":true}');
  });
});
