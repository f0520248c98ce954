#!/usr/bin/env node
// Load test (not run in CI): N concurrent readers of one stream on one relay, spread over a few
// reader processes, while a producer writes at a fixed rate. Reports how many readers got every
// chunk exactly once and in order, delivery latency (p50/p99/max), relay RSS per reader, how
// quickly /healthz and a brand-new stream answered during the fan-out, and whether the relay
// reported itself saturated.
//
//   pnpm build   # the relay CLI (dist/cli.js)
//   node scripts/load-readers.mjs --readers 10000 --processes 4 --chunks 100 --rate 20
//
// Everything runs on this machine (the relay, the readers, the producer): on a small machine
// the readers' own CPU is part of what is measured. The relay runs with the per-IP limits off
// (every reader comes from 127.0.0.1).
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';

const API_KEY = 'load-test-key';
const STREAM = 'load';
const here = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    url: { type: 'string' },
    token: { type: 'string' },
    readers: { type: 'string', default: '10000' },
    processes: { type: 'string', default: '4' },
    chunks: { type: 'string', default: '100' },
    rate: { type: 'string', default: '20' },
    'chunk-bytes': { type: 'string', default: '32' },
    'connect-batch': { type: 'string', default: '200' },
  },
});
const readers = Number(values.readers);
const chunks = Number(values.chunks);

/** Latency histogram in whole milliseconds, mergeable across processes. */
function percentile(histogram, total, fraction) {
  let seen = 0;
  const target = Math.ceil(total * fraction);
  for (let ms = 0; ms < histogram.length; ms++) {
    seen += histogram[ms] ?? 0;
    if (seen >= target) return ms;
  }
  return histogram.length;
}

// ---------------------------------------------------------------------------------------------
// A reader process: connects its share of readers (handshake subscription from 0), then records
// every chunk: in order, once, and its latency (the chunk carries its send time).
async function runWorker() {
  const count = Number(values.readers);
  const batch = Number(values['connect-batch']);
  const states = [];
  const histogram = new Array(120_000).fill(0);
  let samples = 0;
  const connectStarted = Date.now();
  for (let first = 0; first < count; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - first) }, () => {
        const state = { next: 0, outOfOrder: 0, ended: false, connects: 0 };
        states.push(state);
        const socket = io(values.url, {
          transports: ['websocket'],
          forceNew: true,
          reconnectionDelay: 500,
          reconnectionDelayMax: 5_000,
          auth: (callback) => callback({ role: 'consumer', token: values.token, subscribe: { streamId: STREAM, fromSeq: state.next } }),
        });
        socket.on('stream:chunks', (frame) => {
          const now = Date.now();
          if (frame.seq !== state.next) {
            state.outOfOrder++;
            return;
          }
          for (const data of frame.data) {
            const sentAt = JSON.parse(data).t;
            if (sentAt > 0) {
              histogram[Math.min(histogram.length - 1, now - sentAt)]++;
              samples++;
            }
          }
          state.next += frame.data.length;
        });
        socket.on('stream:end', () => {
          state.ended = true;
        });
        state.socket = socket;
        return new Promise((resolve) => {
          socket.once('connect', () => {
            state.connects++;
            socket.on('connect', () => state.connects++);
            resolve();
          });
          socket.once('connect_error', (error) => {
            state.connectError = String(error?.message ?? error);
          });
        });
      }),
    );
    process.send({ type: 'progress', connected: states.length });
  }
  process.send({ type: 'ready', connectMs: Date.now() - connectStarted });
  const isComplete = (state) => state.next === chunks && state.outOfOrder === 0 && state.ended;
  process.on('message', (message) => {
    if (message.type === 'status') process.send({ type: 'status', complete: states.filter(isComplete).length });
    if (message.type !== 'report') return;
    const complete = states.filter((state) => state.next === chunks && state.outOfOrder === 0 && state.ended).length;
    const buckets = [];
    histogram.forEach((count, ms) => count > 0 && buckets.push([ms, count]));
    for (const state of states) state.socket.close();
    // Exit only once the report is handed over (a large message may take a while to go out).
    process.send(
      {
        type: 'report',
        readers: states.length,
        complete,
        outOfOrder: states.reduce((sum, state) => sum + state.outOfOrder, 0),
        reconnected: states.filter((state) => state.connects > 1).length,
        buckets,
        samples,
      },
      () => process.exit(0),
    );
  });
}

// ---------------------------------------------------------------------------------------------

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function main() {
  const load = loadavg().map((value) => value.toFixed(2)).join(' / ');
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const relay = spawn(
    process.execPath,
    [cli, '--port', '0', '--host', '127.0.0.1', '--api-key', API_KEY, '--max-connections-per-ip', '0', '--max-failed-handshakes-per-ip', '0', '--log-format', 'json'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const url = await new Promise((resolve, reject) => {
    relay.stdout.on('data', (data) => {
      output += data;
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]);
    });
    relay.once('exit', () => reject(new Error(`the relay exited:\n${output}`)));
  });
  const { mintClientToken } = await import('@ss/core');
  const token = await mintClientToken({ apiKey: API_KEY, streamIds: [STREAM], expiresIn: '1h' });
  const producer = io(url, {
    transports: ['websocket'],
    forceNew: true,
    extraHeaders: { Authorization: `Bearer ${API_KEY}` },
    auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'] },
  });
  await new Promise((resolve) => producer.once('connect', resolve));
  await producer.emitWithAck('mux:open', { streamId: STREAM, openId: 'load-producer' });
  const rssIdle = await metric(url, 'ss_relay_process_resident_memory_bytes');

  // Readers, spread over the processes.
  const processes = Number(values.processes);
  const workers = Array.from({ length: processes }, (_, index) => {
    const share = Math.floor(readers / processes) + (index < readers % processes ? 1 : 0);
    return fork(here, ['--worker', '--url', url, '--token', token, '--readers', String(share), '--chunks', String(chunks), '--connect-batch', values['connect-batch']]);
  });
  const connectStarted = Date.now();
  const connected = new Array(processes).fill(0);
  const progress = setInterval(() => console.error(`connected ${connected.reduce((a, b) => a + b, 0)} / ${readers} after ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`), 2_000);
  await Promise.all(
    workers.map(
      (worker, index) =>
        new Promise((resolve) =>
          worker.on('message', (message) => {
            if (message.type === 'progress') connected[index] = message.connected;
            if (message.type === 'ready') resolve();
          }),
        ),
    ),
  );
  clearInterval(progress);
  console.error(`all ${readers} readers connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s; producing`);
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  const rssConnected = await metric(url, 'ss_relay_process_resident_memory_bytes');

  // Probes while the producer writes: /healthz every 250 ms, a new stream every 2 s.
  const healthLatencies = [];
  const newStreamLatencies = [];
  let producing = true;
  const healthProbe = (async () => {
    while (producing) {
      const started = Date.now();
      await fetch(`${url}/healthz`).then((response) => response.text()).catch(() => undefined);
      healthLatencies.push(Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const streamProbe = (async () => {
    let index = 0;
    while (producing) {
      const started = Date.now();
      const probe = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { Authorization: `Bearer ${API_KEY}` }, auth: { role: 'producer', version: 'stream-v1', extensions: ['mux'] } });
      try {
        await new Promise((resolve, reject) => {
          probe.once('connect', resolve);
          probe.once('connect_error', reject);
        });
        const id = `probe-${index++}`;
        await probe.timeout(30_000).emitWithAck('mux:open', { streamId: id, openId: id });
        await probe.timeout(30_000).emitWithAck('mux:chunks', { streamId: id, seq: 0, data: ['"first"'] });
        newStreamLatencies.push(Date.now() - started);
      } catch {
        newStreamLatencies.push(Number.POSITIVE_INFINITY);
      }
      probe.close();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  })();

  let rssPeak = rssConnected;
  const rssProbe = setInterval(async () => {
    rssPeak = Math.max(rssPeak, await metric(url, 'ss_relay_process_resident_memory_bytes').catch(() => 0));
  }, 500);
  const rate = Number(values.rate);
  const padding = 'x'.repeat(Math.max(0, Number(values['chunk-bytes']) - 30));
  // A true fixed rate: each chunk goes out on time, without waiting for the previous one's ack.
  const produceStarted = Date.now();
  const acks = [];
  for (let seq = 0; seq < chunks; seq++) {
    const due = produceStarted + (seq * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    acks.push(producer.timeout(120_000).emitWithAck('mux:chunks', { streamId: STREAM, seq, data: [JSON.stringify({ t: Date.now(), p: padding })] }));
  }
  const sentSeconds = (Date.now() - produceStarted) / 1000;
  for (const [seq, ack] of (await Promise.all(acks)).entries()) if (!ack.ok) throw new Error(`chunk ${seq} refused: ${JSON.stringify(ack.error)}`);
  await producer.timeout(120_000).emitWithAck('mux:end', { streamId: STREAM, reason: 'completed', lastSeq: chunks - 1 });
  const produceSeconds = (Date.now() - produceStarted) / 1000;
  // Let the readers drain (up to 60 s), then collect.
  const drainStarted = Date.now();
  const complete = new Array(processes).fill(0);
  workers.forEach((worker, index) => worker.on('message', (message) => message.type === 'status' && (complete[index] = message.complete)));
  while (complete.reduce((a, b) => a + b, 0) < readers && Date.now() - drainStarted < 60_000) {
    for (const worker of workers) worker.send({ type: 'status' });
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const drainMs = Date.now() - drainStarted;
  producing = false;
  clearInterval(rssProbe);
  await Promise.all([healthProbe, streamProbe]);
  console.error(`produced ${chunks} chunks in ${produceSeconds} s; collecting`);
  const reports = await Promise.all(
    workers.map(
      (worker) =>
        new Promise((resolve) => {
          worker.on('message', (message) => message.type === 'report' && resolve(message));
          worker.send({ type: 'report' });
        }),
    ),
  );
  const saturatedSeconds = await metric(url, 'ss_relay_saturated_seconds_total');
  const paced = await metric(url, 'ss_relay_readers_paced_total');
  producer.close();
  relay.kill('SIGTERM');

  const histogram = new Array(120_000).fill(0);
  let samples = 0;
  for (const report of reports) {
    for (const [ms, count] of report.buckets) histogram[ms] += count;
    samples += report.samples;
  }
  const sorted = (values) => [...values].sort((a, b) => a - b);
  const pick = (values, fraction) => (values.length === 0 ? undefined : sorted(values)[Math.min(values.length - 1, Math.floor(values.length * fraction))]);
  const completeReaders = reports.reduce((sum, report) => sum + report.complete, 0);
  const summary = {
    readers,
    processes,
    chunks,
    rate,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg().map((value) => value.toFixed(2)).join(' / '),
    connectSeconds,
    readersComplete: completeReaders,
    fractionComplete: completeReaders / readers,
    outOfOrderFrames: reports.reduce((sum, report) => sum + report.outOfOrder, 0),
    readersReconnected: reports.reduce((sum, report) => sum + report.reconnected, 0),
    deliveries: samples,
    latencyP50Ms: percentile(histogram, samples, 0.5),
    latencyP99Ms: percentile(histogram, samples, 0.99),
    latencyMaxMs: percentile(histogram, samples, 1),
    sentSeconds,
    produceSecondsToLastAck: produceSeconds,
    drainMsAfterEnd: drainMs,
    rssIdleMiB: +(rssIdle / 2 ** 20).toFixed(1),
    rssConnectedMiB: +(rssConnected / 2 ** 20).toFixed(1),
    rssPeakMiB: +(rssPeak / 2 ** 20).toFixed(1),
    rssPerReaderKiB: +((rssConnected - rssIdle) / readers / 1024).toFixed(1),
    healthzP50Ms: pick(healthLatencies, 0.5),
    healthzMaxMs: pick(healthLatencies, 1),
    newStreamFirstAckP50Ms: pick(newStreamLatencies, 0.5),
    newStreamFirstAckMaxMs: pick(newStreamLatencies, 1),
    saturatedSeconds,
    readersPaced: paced,
  };
  console.log(JSON.stringify(summary, null, 2));
  process.exit(0);
}

if (values.worker) await runWorker();
else await main();
