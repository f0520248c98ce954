/**
 * The floors: what the transport and the store cost with nothing of ours on top.
 * - Socket.IO: `emitWithAck` on one connection to a server that acknowledges at once, one
 *   message per emit or 64 per emit, up to 4 emits in flight per stream.
 * - Redis: `XADD` pipelined through ioredis, 64 commands per pipeline, up to 4 in flight per stream.
 * - Socket.IO relay (live): a producer connection sends each turn's chunks as one acknowledged
 *   emit, `[{ s: streamId, q: seq, d: chunks }]` (the shape of this relay's `mux:batch`), and the
 *   server re-emits each stream's part to that stream's room: a relay that stores and checks nothing.
 */
import { Redis } from 'ioredis';
import { type Socket, io } from 'socket.io-client';
import { sleep } from '../lib/stats.js';
import { nowUs } from '../lib/histogram.js';
import { TOKEN, runTicker, timedChunk } from '../lib/ticker.js';
import type { TaskContext } from '../lib/worker-context.js';

const IN_FLIGHT = 4;

/** Runs `streams` loops of `chunks` items in batches of `batch`, `IN_FLIGHT` batches at a time each; stops counting at `capMs`. */
async function run(streams: number, chunks: number, batch: number, capMs: number, send: (stream: number, seq: number, count: number) => Promise<void>) {
  let acked = 0;
  let stopped = false;
  const start = performance.now();
  const all = Promise.all(
    Array.from({ length: streams }, async (_, stream) => {
      let next = 0;
      const lane = async () => {
        while (next < chunks && !stopped) {
          const seq = next;
          const count = Math.min(batch, chunks - seq);
          next += count;
          await send(stream, seq, count);
          acked += count;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    }),
  );
  const capped = await Promise.race([all.then(() => false), sleep(capMs).then(() => true)]);
  const elapsedMs = performance.now() - start;
  const result = { acked, elapsedMs, capped };
  stopped = true;
  await all;
  return result;
}

/** Connects one Socket.IO client to the floor, reports `prepared` and waits for `go`. */
async function connectAndWaitForGo(url: string, context: TaskContext): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  context.emit('prepared');
  await context.waitFor('go');
  return socket;
}

/** Socket.IO emit-with-ack floor. */
export async function socketIoIngest(params: { url: string; streams: number; chunks: number; perEmit: number; capMs: number }, context: TaskContext) {
  const socket = await connectAndWaitForGo(params.url, context);
  const single = params.perEmit === 1;
  const frames = new Map<number, string[]>();
  const frame = (count: number) => {
    let data = frames.get(count);
    if (!data) {
      data = Array.from({ length: count }, () => TOKEN);
      frames.set(count, data);
    }
    return data;
  };
  const result = await run(params.streams, params.chunks, params.perEmit, params.capMs, async (stream, seq, count) => {
    await socket.emitWithAck('m', single ? { s: stream, q: seq, d: TOKEN } : { s: stream, q: seq, d: frame(count) });
  });
  socket.disconnect();
  return result;
}

/** Redis XADD floor. */
export async function xaddIngest(params: { redisUrl: string; prefix: string; streams: number; chunks: number; capMs: number }, context: TaskContext) {
  const redis = new Redis(params.redisUrl);
  await redis.ping();
  context.emit('prepared');
  await context.waitFor('go');
  const result = await run(params.streams, params.chunks, 64, params.capMs, async (stream, seq, count) => {
    const pipeline = redis.pipeline();
    const key = `${params.prefix}:${stream}`;
    for (let n = 0; n < count; n++) pipeline.xadd(key, `${seq + n + 1}-1`, 'd', TOKEN);
    const replies = await pipeline.exec();
    const failed = replies?.find(([error]) => error);
    if (failed) throw failed[0];
  });
  redis.disconnect();
  return result;
}

/** Live producer for the Socket.IO relay floor: timed chunks at `rate` per stream, each turn's chunks in one acknowledged emit. */
export async function socketIoProduceLive(params: { url: string; prefix: string; streams: number; rate: number; warmupMs: number; durationMs: number }, context: TaskContext) {
  const socket = await connectAndWaitForGo(params.url, context);
  const seqs = new Array<number>(params.streams).fill(0);
  let batch: Array<{ s: string; q: number; d: string[] }> = [];
  const flush = () => {
    const frames = batch;
    batch = [];
    socket.emit('b', frames, () => {});
  };
  const sent = await runTicker(params.streams, params.rate, params.warmupMs, params.durationMs, (index, warm) => {
    if (batch.length === 0) setImmediate(flush);
    batch.push({ s: `${params.prefix}-${index}`, q: seqs[index]!++, d: [timedChunk(nowUs(), warm)] });
  });
  await sleep(50);
  for (let index = 0; index < params.streams; index++) socket.emit('e', `${params.prefix}-${index}`, seqs[index]! - 1);
  await sleep(200);
  socket.disconnect();
  return { sent };
}
