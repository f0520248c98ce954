/**
 * `resumable-stream` behind an HTTP SSE route (`servers/resumable-stream-http-server.ts`), read as
 * a browser reads the AI SDK recipe's resume route: the producer streams each LLM response to
 * `POST /streams/:id` as SSE text (one chunked request per stream); every reader is its own
 * `GET /streams/:id` connection, read with the bare SSE reader.
 */
import { Agent, type ClientRequest, request } from 'node:http';
import { Histogram, nowUs } from '../lib/histogram.js';
import { type SseReader, openSse } from '../lib/sse-reader.js';
import { measured, runTicker, sentAt, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

/** Where the app server is, and a per-run prefix of stream ids. */
export interface ResumableHttpTarget {
  url: string;
  prefix: string;
}

const streamUrl = (url: string, id: string) => `${url}/streams/${encodeURIComponent(id)}`;

// Every producer request holds its own connection for the whole run.
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** Opens the POST of one stream; resolves once the route has created it (its response headers). */
function openProducer(url: string): Promise<{ request: ClientRequest; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const post = request(url, { method: 'POST', agent, headers: { 'content-type': 'text/event-stream', 'transfer-encoding': 'chunked' } });
    post.setNoDelay(true);
    post.once('error', reject);
    post.once('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`POST ${url} answered ${response.statusCode}`));
        response.resume();
        return;
      }
      response.resume();
      resolve({ request: post, ended: new Promise((resolveEnd) => response.once('close', () => resolveEnd())) });
    });
    post.flushHeaders();
  });
}

/** Live producer: one streaming POST per stream; on `go`, writes timed `data:` events at `rate` per stream; then ends them. */
export async function produceLive(params: ResumableHttpTarget & { streams: number; rate: number; warmupMs: number; durationMs: number }, context: TaskContext) {
  const producers = await Promise.all(Array.from({ length: params.streams }, (_, index) => openProducer(streamUrl(params.url, `${params.prefix}-${index}`))));
  context.emit('prepared');
  await context.waitFor('go');
  const sent = await runTicker(params.streams, params.rate, params.warmupMs, params.durationMs, (index, warm) => {
    producers[index]!.request.write(`data: ${timedChunk(nowUs(), warm)}\n\n`);
  });
  for (const producer of producers) producer.request.end();
  await Promise.all(producers.map((producer) => producer.ended));
  return { sent };
}

/** Live readers, one `GET /streams/:id` connection per name (names may repeat: several readers of one stream). */
export async function readLive(params: ResumableHttpTarget & { names: string[] }, context: TaskContext) {
  const histogram = new Histogram();
  let received = 0;
  let lastAt = 0;
  const onEvent = ({ data }: { data: string }) => {
    if (!measured(data)) return;
    const now = nowUs();
    histogram.record(now - sentAt(data));
    received++;
    lastAt = now;
  };
  const open = (name: string) =>
    new Promise<SseReader>((resolve, reject) => {
      const reader = openSse(streamUrl(params.url, name), { onEvent, onOpen: (status) => status === 200 && resolve(reader) });
      void reader.closed.then(() => reject(reader.error ?? new Error(`GET ${name} ended before it opened`)));
    });
  // Every reader resumes at once, as browsers reconnecting would. resumable-stream gives the
  // producer 1 s to answer each resume ("Timeout waiting for ack"); 1,000 at once (fan-out) were
  // answered in time in every run here, on a loaded machine.
  const readers = await Promise.all(params.names.map(open));
  context.emit('ready');
  await Promise.race([context.waitFor('stop'), Promise.all(readers.map((reader) => reader.closed))]);
  const failed = readers.find((reader) => reader.error);
  for (const reader of readers) reader.close();
  if (failed) throw failed.error;
  const cpu = process.cpuUsage();
  return { histogram: histogram.toJSON(), received, lastAt, cpuMs: (cpu.user + cpu.system) / 1000 };
}
