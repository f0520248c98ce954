// `@ss/core`'s HTTP producer (`transport: 'http'`) against a real relay: batches retried after
// real TCP cuts are stored once; a reader's cancel reaches it; and the `@ss/core/http` entry,
// bundled, runs in a Node process with nothing but the runtime's fetch (no Socket.IO, no ws).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { mintClientToken, streamstraightServer } from '@ss/core';
import { streamstraightServer as httpServer } from '@ss/core/http';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectReader } from './support/raw-clients.js';
import { expectConsecutive, readSse } from './support/sse-reader.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { startTestRelay } from './support/test-relay.js';
import { encoded, token, tokens } from './support/tokens.js';
import { until } from './support/until.js';
import { build } from 'esbuild';

const API_KEY = 'test-key-http-sdk';
const later = useCleanups();
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('@ss/core HTTP producer', () => {
  it('retries a batch whose answer a TCP cut lost: every chunk stored once, in order, read live over SSE', async () => {
    const store = memoryStore();
    const { url, port } = await startTestRelay(later, { apiKeys: [API_KEY], store });
    const proxy = later(await startTcpProxy(port), close);
    // Cut every connection right after the store took a batch, three times: the answer is lost.
    let cuts = 0;
    const unsubscribe = store.subscribe('cut-http', (event) => {
      if (event.type === 'chunks' && cuts < 3 && event.seq > cuts * 100) {
        cuts++;
        proxy.dropConnections();
      }
    });
    later(unsubscribe, (stop) => stop());
    const posted: Array<{ seq: number; count: number }> = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/chunks')) {
        const body = JSON.parse(String(init?.body)) as { seq: number; data: string[] };
        posted.push({ seq: body.seq, count: body.data.length });
      }
      return fetch(input, init);
    };
    const producer = await streamstraightServer(
      { transport: 'http', apiKey: API_KEY, baseUrl: proxy.url, retryBaseMs: 10, retryMaxMs: 50, maxBatchChunks: 40, fetch: recordingFetch },
      { streamId: 'cut-http' },
    );
    const readerToken = await mintClientToken({ apiKey: API_KEY, streamIds: ['cut-http'] });
    const writing = producer.stream(tokens(600, 30, 5));
    await until(async () => (await store.info('cut-http')) !== undefined, 'the stream to open');
    const read = later(readSse(`${url}/v1/streams/cut-http/events?token=${readerToken}`), close);
    await writing;
    const events = await read.done;
    expectConsecutive(events);
    expect(events.map((event) => event.data)).toEqual(encoded(600));
    expect(cuts).toBe(3);
    // The batches whose answers were cut were posted again with the same seq.
    const seqs = posted.map((batch) => batch.seq);
    expect(seqs.length - new Set(seqs).size).toBeGreaterThanOrEqual(3);
    expect(await store.read('cut-http', 0, 10_000)).toEqual(encoded(600));
    expect(await store.info('cut-http')).toMatchObject({ status: 'ended', endReason: 'completed', lastSeq: 599 });
  });

  it('a reader that cancels over Socket.IO stops the HTTP producer: its signal aborts and stream() resolves', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const producer = await httpServer({ transport: 'http', apiKey: API_KEY, baseUrl: url }, { streamId: 'cancel-http' });
    let produced = 0;
    const endless = (async function* () {
      for (;;) {
        produced++;
        yield token(produced);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const writing = producer.stream(endless);
    const reader = later(await connectReader(url, API_KEY, ['cancel-http'], true), close);
    await until(async () => (await (await fetch(`${url}/v1/streams/cancel-http`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()).lastSeq > 20, 'some chunks stored');
    expect(await reader.emitWithAck('consumer:cancel', { streamId: 'cancel-http' })).toEqual({ ok: true });
    await writing;
    expect(producer.signal.aborted).toBe(true);
    const info = await (await fetch(`${url}/v1/streams/cancel-http`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
    expect(info).toMatchObject({ status: 'ended', endReason: 'cancelled' });
  });

  it('@ss/core/http bundles without Socket.IO or ws and streams from a Node process that has only fetch', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const dir = mkdtempSync(join(tmpdir(), 'ss-http-producer-'));
    later(dir, (path) => rmSync(path, { recursive: true, force: true }));
    const bundle = join(dir, 'http-producer.mjs');
    const built = await build({
      entryPoints: [join(repoRoot, 'packages/core/src/http.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'neutral',
      outfile: bundle,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(built.metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
    const code = readFileSync(bundle, 'utf8');
    expect(code).not.toMatch(/\bimport\s*[("'{*]/); // nothing to load: only the runtime's globals
    const gzipped = gzipSync(code).length;
    expect(gzipped).toBeLessThan(8 * 1024);

    // The child blocks every module load: the bundle may use globals (fetch) and nothing else.
    const script = join(dir, 'produce.mjs');
    writeFileSync(
      script,
      `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent('export async function resolve(specifier, context, next) { if (!specifier.endsWith("http-producer.mjs")) throw new Error("blocked import of " + specifier); return next(specifier, context); }'));
const { streamstraightServer } = await import(${JSON.stringify(bundle)});
const server = await streamstraightServer({ transport: 'http', apiKey: process.env.SS_API_KEY, baseUrl: process.env.RELAY_URL }, { streamId: 'fetch-only' });
await server.stream(Array.from({ length: 100 }, (_, index) => 'token ' + index));
console.log('done');
`,
    );
    const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, SS_API_KEY: API_KEY, RELAY_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => (output += data));
    child.stderr.on('data', (data) => (output += data));
    const status = await new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    expect({ status, output: output.trim() }).toEqual({ status: 0, output: 'done' });
    const readerToken = await mintClientToken({ apiKey: API_KEY, streamIds: ['fetch-only'] });
    const events = await readSse(`${url}/v1/streams/fetch-only/events?token=${readerToken}`).done;
    expect(events.map((event) => JSON.parse(event.data))).toEqual(Array.from({ length: 100 }, (_, index) => `token ${index}`));
    console.log(`@ss/core/http: ${code.length} bytes minified, ${gzipped} bytes gzipped`);
  });
});
