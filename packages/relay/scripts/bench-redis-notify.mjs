#!/usr/bin/env node
// Measures the Redis store's live delivery to another relay's store, with the chunks inline in the
// Pub/Sub notification versus `{seq, count}` plus an XRANGE, for small (LLM-token-sized) chunks.
// Usage: node scripts/bench-redis-notify.mjs redis://127.0.0.1:6399   (after `pnpm build`)
// Use a Redis of your own: the script writes keys under the prefix `bench-notify:`.
import { redisStore, memoryStore } from '../dist/index.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: node scripts/bench-redis-notify.mjs redis://host:port');
  process.exit(1);
}
const FRAMES = 4000;
const STREAMS = 20;
const chunk = (index) => JSON.stringify(`tok${index} `);
const percentile = (values, p) => values.slice().sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

async function latency(mode, inlineNotifyMaxBytes) {
  const options = { url, keyPrefix: 'bench-notify:', inlineNotifyMaxBytes };
  const writer = redisStore(options);
  const reader = redisStore(options);
  const id = `latency-${mode}-${Date.now()}`;
  const received = new Map();
  reader.subscribe(id, (event) => {
    if (event.type === 'chunks') for (let offset = 0; offset < event.data.length; offset++) received.set(event.seq + offset, performance.now());
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const { lease } = await writer.open(id, 'overwrite');
  const sent = [];
  for (let seq = 0; seq < FRAMES; seq++) {
    sent.push(performance.now());
    await writer.append(id, lease, seq, [chunk(seq)]);
  }
  while (received.size < FRAMES) await new Promise((resolve) => setTimeout(resolve, 5));
  const delays = sent.map((at, seq) => received.get(seq) - at);
  await writer.close();
  await reader.close();
  return { p50: percentile(delays, 50), p99: percentile(delays, 99) };
}

async function throughput(label, makeWriter, makeReader) {
  const writer = makeWriter();
  const reader = makeReader(writer);
  let delivered = 0;
  const ids = Array.from({ length: STREAMS }, (_, index) => `throughput-${label}-${Date.now()}-${index}`);
  for (const id of ids) reader.subscribe(id, (event) => event.type === 'chunks' && (delivered += event.data.length));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      const { lease } = await writer.open(id, 'overwrite');
      for (let seq = 0; seq < FRAMES / 4; seq++) await writer.append(id, lease, seq, [chunk(seq)]);
    }),
  );
  const acked = performance.now() - started;
  while (delivered < STREAMS * (FRAMES / 4)) await new Promise((resolve) => setImmediate(resolve));
  const all = performance.now() - started;
  await writer.close();
  if (reader !== writer) await reader.close();
  const total = STREAMS * (FRAMES / 4);
  return { ackedPerSecond: Math.round(total / (acked / 1000)), deliveredPerSecond: Math.round(total / (all / 1000)) };
}

const results = {};
for (let round = 0; round < 2; round++) {
  // Round 0 warms up; round 1 is reported.
  results.inlineLatency = await latency('inline', 64 * 1024);
  results.xrangeLatency = await latency('xrange', 0);
  results.memory = await throughput('memory', () => memoryStore(), (writer) => writer);
  results.inlineThroughput = await throughput('inline', () => redisStore({ url, keyPrefix: 'bench-notify:' }), () => redisStore({ url, keyPrefix: 'bench-notify:' }));
  results.xrangeThroughput = await throughput(
    'xrange',
    () => redisStore({ url, keyPrefix: 'bench-notify:', inlineNotifyMaxBytes: 0 }),
    () => redisStore({ url, keyPrefix: 'bench-notify:', inlineNotifyMaxBytes: 0 }),
  );
}
const ms = (value) => `${value.toFixed(2)} ms`;
console.log(`one-chunk frames, ${FRAMES} sequential appends, reader on another store:`);
console.log(`  inline notification      p50 ${ms(results.inlineLatency.p50)}  p99 ${ms(results.inlineLatency.p99)}`);
console.log(`  {seq,count} + XRANGE     p50 ${ms(results.xrangeLatency.p50)}  p99 ${ms(results.xrangeLatency.p99)}`);
console.log(`${STREAMS} streams in parallel, one-chunk frames (chunks/s acknowledged / delivered to the other store):`);
console.log(`  memory store             ${results.memory.ackedPerSecond} / ${results.memory.deliveredPerSecond}`);
console.log(`  redis, inline            ${results.inlineThroughput.ackedPerSecond} / ${results.inlineThroughput.deliveredPerSecond}`);
console.log(`  redis, {seq,count}+XRANGE ${results.xrangeThroughput.ackedPerSecond} / ${results.xrangeThroughput.deliveredPerSecond}`);
process.exit(0);
