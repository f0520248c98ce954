/**
 * Vercel's `resumable-stream` with Redis (ioredis), driven as its users drive it: the app server
 * (producer process) wraps each LLM stream with `createNewResumableStream` and drains its own
 * response; resumers in another process call `resumeExistingStream` and get the buffered text,
 * then the live chunks, over Redis Pub/Sub.
 */
import { Redis } from 'ioredis';
import { createResumableStreamContext } from 'resumable-stream/ioredis';
import { Histogram, nowUs } from '../lib/histogram.js';
import { sleep } from '../lib/stats.js';
import { measured, runTicker, sentAt, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

/** Where Redis is, and a per-run key prefix. */
export interface ResumableTarget {
  redisUrl: string;
  prefix: string;
}

function context(target: ResumableTarget) {
  const publisher = new Redis(target.redisUrl);
  const subscriber = new Redis(target.redisUrl);
  const streams = createResumableStreamContext({ waitUntil: null, keyPrefix: target.prefix, publisher, subscriber });
  return {
    streams,
    close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

async function drain(stream: ReadableStream<string> | null): Promise<void> {
  if (!stream) throw new Error('resumable-stream refused to create the stream');
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}

/** Live producer: creates `streams` resumable streams; on `go`, writes timed lines at `rate` per stream; then ends them. */
export async function produceLive(params: ResumableTarget & { streams: number; rate: number; warmupMs: number; durationMs: number }, taskContext: TaskContext) {
  const { streams, close } = context(params);
  const controllers: ReadableStreamDefaultController<string>[] = [];
  const drained: Promise<void>[] = [];
  for (let index = 0; index < params.streams; index++) {
    const source = new ReadableStream<string>({ start: (controller) => void controllers.push(controller) });
    drained.push(drain(await streams.createNewResumableStream(`s-${index}`, () => source)));
  }
  taskContext.emit('prepared');
  await taskContext.waitFor('go');
  const sent = await runTicker(params.streams, params.rate, params.warmupMs, params.durationMs, (index, warm) => {
    controllers[index]!.enqueue(`${timedChunk(nowUs(), warm)}\n`);
  });
  for (const controller of controllers) controller.close();
  await Promise.all(drained);
  await sleep(500); // the DONE messages are published after the source ends
  close();
  return { sent };
}

/** Live resumers, one per name (names may repeat: several resumers of one stream). */
export async function readLive(params: ResumableTarget & { names: string[] }, taskContext: TaskContext) {
  const { streams, close } = context(params);
  const histogram = new Histogram();
  let received = 0;
  let lastAt = 0;
  // Resumes go out 25 at a time: resumable-stream gives the producer 1 s to answer a resume, which
  // hundreds of simultaneous resumes can exceed ("Timeout waiting for ack").
  const readers: ReadableStreamDefaultReader<string>[] = [];
  for (let start = 0; start < params.names.length; start += 25) {
    const group = await Promise.all(
      params.names.slice(start, start + 25).map(async (name) => {
        const stream = await streams.resumeExistingStream(name);
        if (!stream) throw new Error(`resumeExistingStream(${name}) found no live stream`);
        return stream.getReader();
      }),
    );
    readers.push(...group);
  }
  taskContext.emit('ready');
  const done = Promise.all(
    readers.map(async (reader) => {
      let rest = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const now = nowUs();
        const lines = (rest + value).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '' || !measured(line)) continue;
          histogram.record(now - sentAt(line));
          received++;
        }
        lastAt = now;
      }
    }),
  );
  await Promise.race([taskContext.waitFor('stop'), done]);
  close();
  return { histogram: histogram.toJSON(), received, lastAt };
}
