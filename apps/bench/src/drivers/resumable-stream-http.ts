/**
 * `resumable-stream` behind an HTTP SSE route (`servers/resumable-stream-http-server.ts`), read as
 * a browser reads the AI SDK recipe's resume route: the producer streams each LLM response to
 * `POST /streams/:id` as SSE text (one chunked request per stream, ending with `data: [DONE]` as
 * the AI SDK's does); every reader is its own `GET /streams/:id` connection, read with the bare SSE
 * reader.
 */
import { Agent, type ClientRequest, request } from 'node:http';
import { nowUs } from '../lib/histogram.js';
import { type ConnectReader, LiveTally, runLiveReaders } from '../lib/raw-readers.js';
import { openSse } from '../lib/sse-reader.js';
import { runTicker, sentAt, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

/** Where the app server is, and a per-run prefix of stream ids. */
export interface ResumableHttpTarget {
  url: string;
  prefix: string;
}

/** The AI SDK ends its SSE text with `data: [DONE]`; so does this producer, and readers stop there. */
const DONE = '[DONE]';

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
  for (const producer of producers) producer.request.end(`data: ${DONE}\n\n`);
  await Promise.all(producers.map((producer) => producer.ended));
  return { sent };
}

/**
 * Live readers, one `GET /streams/:id` connection per name (names may repeat: several readers of
 * one stream), run by the raw readers' loop (`lib/raw-readers.ts`): `ready` once every resume
 * answered 200, done at each stream's `data: [DONE]`. Send times must grow within a stream. A
 * connection lost before `[DONE]` is opened again; the resume route replays the stream from its
 * start (the recipe passes no `skipCharacters`), and the replayed chunks the reader already has are
 * skipped.
 */
export async function readLive(params: ResumableHttpTarget & { names: string[] }, context: TaskContext) {
  const tally = new LiveTally();
  const readers = params.names.map((name): ConnectReader => {
    const url = streamUrl(params.url, name);
    let lastSentAt = -1;
    return (hooks) => {
      let replaying = lastSentAt >= 0;
      const reader = openSse(url, {
        onOpen: (status) => {
          if (status === 200) hooks.live();
        },
        onEvent({ data }) {
          if (data === DONE) {
            hooks.ended();
            return;
          }
          const sent = sentAt(data);
          if (sent <= lastSentAt) {
            if (!replaying) tally.sequenceErrors++;
            return;
          }
          replaying = false;
          lastSentAt = sent;
          tally.chunk(data, nowUs());
        },
      });
      return { closed: reader.closed.then(() => reader.error?.message ?? 'the response ended before [DONE]'), close: () => reader.close() };
    };
  });
  // Every reader resumes at once, as browsers reconnecting would. resumable-stream gives the
  // producer 1 s to answer each resume ("Timeout waiting for ack"); 1,000 at once (fan-out) were
  // answered in time in every run here, on a loaded machine.
  return runLiveReaders(readers, tally, context);
}
