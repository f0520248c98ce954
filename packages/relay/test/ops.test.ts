// What an operator relies on: /livez, /readyz (readiness = the store is reachable, and not shutting
// down), metrics on/off and on their own port, every createRelay option from the CLI and env,
// --version, and a graceful shutdown with a drain period.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redisStore } from '../src/index.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer } from './support/raw-clients.js';
import { redisServerMissing, startRedisServer } from './support/redis-server.js';
import { runRelayProcessToExit, startRelayProcess } from './support/relay-process.js';
import { startTestRelay } from './support/test-relay.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-ops';
const later = useCleanups();
const status = async (url: string) => (await fetch(url).catch(() => undefined))?.status;

describe('liveness, readiness and metrics', () => {
  it('serves /livez, /readyz and /healthz on the public port, and /metrics by default', async () => {
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    expect(await (await fetch(`${url}/livez`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', store: 'memory' });
    expect(await status(`${url}/healthz`)).toBe(200);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('ss_relay_chunks_received_total');
  });

  it('turns metrics off, or moves them to a port of their own', async () => {
    const off = await startTestRelay(later, { apiKeys: [API_KEY], metrics: false });
    expect(await status(`${off.url}/metrics`)).toBe(404);

    const ownPort = await startTestRelay(later, { apiKeys: [API_KEY], metricsPort: 0 });
    expect(await status(`${ownPort.url}/metrics`)).toBe(404);
  });

  it('returns the metrics URL from listen() and serves only GET /metrics there', async () => {
    const { createRelay, silentLogger } = await import('../src/index.js');
    const relay = later(createRelay({ apiKeys: [API_KEY], metricsPort: 0, log: silentLogger }), close);
    const { url, metricsUrl } = await relay.listen(0);
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl!).port).not.toBe(new URL(url).port);
    const metrics = await fetch(metricsUrl!);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('ss_relay_connections');
    expect(await status(metricsUrl!.replace('/metrics', '/v1/token'))).toBe(404);
    await relay.close();
    expect(await status(metricsUrl!)).toBeUndefined();
  });

  it('answers /readyz 503 while draining, still serving connected clients, then closes', async () => {
    const { relay, url } = await startTestRelay(later, { apiKeys: [API_KEY] });
    const producer = later(await connectMuxProducer(url, API_KEY), close);
    const closing = relay.close({ drainMs: 400 });
    const readiness = await fetch(`${url}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'degraded', detail: 'The relay is shutting down.' });
    expect(await status(`${url}/livez`)).toBe(200);
    // Connected producers keep working during the drain.
    expect(await producer.emitWithAck('mux:open', { streamId: 'during-drain' })).toMatchObject({ ok: true });
    await closing;
    await until(() => !producer.connected, 'the producer to be disconnected');
    expect(await status(`${url}/livez`)).toBeUndefined();
  });
});

describe.skipIf(redisServerMissing)('readiness follows the store', () => {
  it('answers /readyz 503 while Redis is down and 200 again once it is back; /livez stays 200', async () => {
    const server = later(await startRedisServer(), (redis) => redis.stop());
    const { url } = await startTestRelay(later, { apiKeys: [API_KEY], store: redisStore({ url: server.url, commandTimeoutMs: 1000 }) });
    expect(await status(`${url}/readyz`)).toBe(200);
    await server.kill();
    await until(async () => (await status(`${url}/readyz`)) === 503, '/readyz to answer 503');
    expect(await status(`${url}/livez`)).toBe(200);
    await server.start();
    await until(async () => (await status(`${url}/readyz`)) === 200, '/readyz to answer 200 again', 20_000);
  });
});

/** Each createRelay option and the CLI flag that sets it (an option added to RelayOptions needs a row here and a flag). */
const FLAG_OF_OPTION: Record<string, string> = {
  apiKeys: '--api-key',
  store: '--redis',
  ttlMs: '--ttl',
  inactivityTimeoutMs: '--inactivity-timeout',
  maxChunkBytes: '--max-chunk-bytes',
  producerGraceMs: '--producer-grace',
  corsOrigin: '--cors-origin',
  clockToleranceSeconds: '--clock-tolerance',
  deploymentId: '--deployment-id',
  log: '--log-format',
  logLevel: '--log-level',
  metrics: '--metrics',
  metricsPort: '--metrics-port',
  metricsHost: '--metrics-host',
  unscopedTokens: '--unscoped-tokens',
  durableStreams: '--durable-streams',
  http: '--sse-keep-alive',
};
/** Options whose flags are checked elsewhere: each limit gets its own flag with the limits work (issue #12). */
const CHECKED_ELSEWHERE = new Set(['limits']);

describe('ss-relay CLI: every option, --version', () => {
  it('has a flag (with an environment variable) for every createRelay option', async () => {
    const source = readFileSync(new URL('../src/relay.ts', import.meta.url), 'utf8');
    const body = /export interface RelayOptions \{([\s\S]*?)\n\}/.exec(source)![1]!;
    const optionNames = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((match) => match[1]!);
    expect(optionNames.length).toBeGreaterThan(10);
    const { output: help } = await runRelayProcessToExit(['--help']);
    for (const name of optionNames.filter((option) => !CHECKED_ELSEWHERE.has(option))) {
      const flag = FLAG_OF_OPTION[name];
      expect(flag, `createRelay option "${name}" has no CLI flag: add one to src/cli.ts (with an SS_* variable) and to FLAG_OF_OPTION`).toBeDefined();
      const line = help.split('\n').find((text) => text.trimStart().startsWith(`${flag} `));
      expect(line, `ss-relay --help does not list ${flag}`).toBeDefined();
    }
    // Every flag names its environment variable.
    for (const line of help.split('\n').filter((text) => /^ {2}--/.test(text))) {
      if (/^ {2}--(help|version)/.test(line)) continue;
      const entry = help.slice(help.indexOf(line)).split(/\n {2}(?=-)/)[0]!;
      expect(entry, `${line.trim()} names no environment variable`).toMatch(/env [A-Z_]+/);
    }
  });

  it('prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const { code, output } = await runRelayProcessToExit([flag]);
      expect(code).toBe(0);
      expect(output.trim()).toBe(version);
    }
  });

  it('takes the options from the environment: metrics port, deployment id, producer grace, CORS origin', async () => {
    const relay = await startRelayProcess([], {
      SS_API_KEY: `${API_KEY},older-key`,
      SS_METRICS_PORT: '0',
      SS_DEPLOYMENT_ID: 'relay-from-env',
      SS_PRODUCER_GRACE: '5s',
      SS_CORS_ORIGIN: 'https://app.example',
      SS_CLOCK_TOLERANCE: '2s',
      SS_MAX_CHUNK_BYTES: '1000',
      SS_LOG_FORMAT: 'json',
    });
    try {
      const line = JSON.parse(relay.output().split('\n').find((text) => text.includes('listening on'))!) as { metrics: string; apiKeys: number };
      expect(line.apiKeys).toBe(2);
      expect(line.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(line.metrics).port).not.toBe(String(relay.port));
      expect(await status(line.metrics)).toBe(200);
      expect(await status(`${relay.url}/metrics`)).toBe(404);
      // The CORS origin reaches Socket.IO's polling transport.
      const polling = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'https://app.example' } });
      expect(polling.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const foreign = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'https://evil.example' } });
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      // The deployment id reaches stream:info; the chunk limit refuses a larger chunk.
      const { connectRaw, nextEvent } = await import('./support/raw-clients.js');
      let info: Promise<{ deploymentId: string }> | undefined;
      const producer = later(
        await connectRaw(relay.url, {
          apiKey: API_KEY,
          auth: { role: 'producer', streamId: 'env-stream', version: 'stream-v1' },
          beforeConnect: (socket) => (info = nextEvent(socket, 'stream:info')),
        }),
        close,
      );
      expect((await info!).deploymentId).toBe('relay-from-env');
      const refused = nextEvent<{ code: string }>(producer, 'stream:error');
      producer.emit('producer:chunk', { seq: 0, data: 'x'.repeat(2000) });
      expect((await refused).code).toBe('CHUNK_TOO_LARGE');
    } finally {
      await relay.kill();
    }
  });

  it('turns metrics off with --metrics off and refuses a bad value', async () => {
    const relay = await startRelayProcess(['--api-key', API_KEY, '--metrics', 'off']);
    try {
      expect(await status(`${relay.url}/metrics`)).toBe(404);
    } finally {
      await relay.kill();
    }
    const bad = await runRelayProcessToExit(['--api-key', API_KEY, '--metrics', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('--metrics must be on or off');
  });

  it('drains on SIGTERM for --drain (readyz 503, clients still served), then exits 0', async () => {
    // A 3 s window: on a loaded machine a 1 s drain could pass between two polls of /readyz.
    const relay = await startRelayProcess(['--api-key', API_KEY, '--drain', '3s', '--log-format', 'json']);
    const started = Date.now();
    relay.child.kill('SIGTERM');
    await until(async () => (await status(`${relay.url}/readyz`)) === 503, '/readyz to answer 503');
    expect(await status(`${relay.url}/livez`)).toBe(200);
    expect(await relay.exited).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(relay.output()).toContain('"msg":"relay draining: /readyz answers 503"');
  });
});
