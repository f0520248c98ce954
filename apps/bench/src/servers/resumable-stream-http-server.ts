/**
 * `resumable-stream` behind HTTP, the way the AI SDK's resumable-streams recipe serves it to a
 * browser, on `node:http` with no framework. One context (one ioredis publisher, one subscriber)
 * for the whole process, as the recipe keeps it at module level.
 *
 * - `POST /streams/:id`: the request body is the LLM's output as SSE text. The route wraps it with
 *   `createNewResumableStream(id, () => body)` and drains the returned stream itself (the recipe
 *   sends it to the browser that started the chat; that browser is not measured). It answers 200
 *   as soon as the stream exists (so the producer knows readers can resume it) and ends the
 *   response when the body ends.
 * - `GET /streams/:id` (the recipe's resume route): `resumeExistingStream(id)` as
 *   `text/event-stream`, unchanged; 204 when there is no active stream.
 *
 * Usage: `node resumable-stream-http-server.js --redis redis://127.0.0.1:6379` (or `REDIS_URL`).
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createResumableStreamContext } from 'resumable-stream/ioredis';

const { values } = parseArgs({ options: { redis: { type: 'string' }, port: { type: 'string' } } });
const redisUrl = values.redis ?? process.env.REDIS_URL;
if (!redisUrl) throw new Error('pass --redis <url> or set REDIS_URL');

const publisher = new Redis(redisUrl);
const subscriber = new Redis(redisUrl);
const streamContext = createResumableStreamContext({ waitUntil: null, publisher, subscriber });

/** The headers the AI SDK sends with a UI message stream (`UI_MESSAGE_STREAM_HEADERS`). */
const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-vercel-ai-ui-message-stream': 'v1',
  'x-accel-buffering': 'no',
};

/**
 * The request body as a stream of strings, pulled as it is read. A body cut short ends the stream
 * (as an LLM stream that stops): resumable-stream's read loop has no rejection handler.
 */
function bodyText(request: IncomingMessage): ReadableStream<string> {
  request.setEncoding('utf8');
  return new ReadableStream<string>({
    start(controller) {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        controller.close();
      };
      request.on('data', (text: string) => {
        if (ended) return;
        controller.enqueue(text);
        if ((controller.desiredSize ?? 0) <= 0) request.pause();
      });
      request.once('end', end);
      request.once('close', end);
      request.once('error', end);
    },
    pull() {
      request.resume();
    },
    cancel() {
      request.destroy();
    },
  });
}

/** Waits until `response` can take more, or is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      response.off('error', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
    response.once('error', done);
  });
}

/** Writes `stream` to `response` with backpressure; cancels the stream when the client goes away. */
async function send(stream: ReadableStream<string>, response: ServerResponse): Promise<void> {
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  response.once('close', cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || response.destroyed) break;
      if (value.length > 0 && !response.write(value)) await drained(response);
    }
    response.end();
  } catch {
    response.destroy();
  } finally {
    response.off('close', cancel);
  }
}

async function produce(id: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const stream = await streamContext.createNewResumableStream(id, () => bodyText(request));
  if (!stream) {
    response.writeHead(409).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain' });
  response.flushHeaders();
  const reader = stream.getReader();
  while (!(await reader.read()).done);
  response.end();
}

async function resume(id: string, response: ServerResponse): Promise<void> {
  const stream = await streamContext.resumeExistingStream(id);
  if (!stream) {
    response.writeHead(204).end();
    return;
  }
  response.writeHead(200, EVENT_STREAM_HEADERS);
  response.flushHeaders();
  await send(stream, response);
}

const server = createServer((request, response) => {
  const match = /^\/streams\/([^/?]+)/.exec(request.url ?? '');
  if (!match) {
    response.writeHead(404).end();
    return;
  }
  const id = decodeURIComponent(match[1]!);
  const handled = request.method === 'POST' ? produce(id, request, response) : request.method === 'GET' ? resume(id, response) : undefined;
  if (!handled) {
    response.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  handled.catch((error: unknown) => {
    console.error(`${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`);
    if (!response.headersSent) response.writeHead(500).end();
    else response.destroy();
  });
});

server.listen(Number(values.port ?? 0), '127.0.0.1', () => {
  console.log(`resumable-stream-http listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

const stop = () => {
  server.closeAllConnections();
  server.close();
  publisher.disconnect();
  subscriber.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
