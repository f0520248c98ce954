// The relay's structured log: JSON lines with a level, from every part of the relay (handshakes,
// producers, the HTTP API, the Redis store, shutdown), with repeated auth failures throttled.
import { describe, expect, it } from 'vitest';
import { createLogger, createRelay, formatPrettyLine, redisStore } from '../src/index.js';
import { ThrottledLog } from '../src/internal/throttled-log.js';
import { close, useCleanups } from './support/cleanups.js';
import { connectMuxProducer, connectRaw } from './support/raw-clients.js';
import { until } from './support/until.js';

const API_KEY = 'test-key-logging';
const later = useCleanups();

/** A logger at `level` whose JSON lines are kept in memory (raw text, to check each is JSON). */
function capturedLogger(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, format: 'json', destination: { write: (line: string) => lines.push(line) } });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown> & { level: string; msg: string });
  return { log, lines, records };
}

describe('relay logging', () => {
  it('writes one JSON object per line, each with a level: stream open/end at debug, shutdown at info', async () => {
    const { log, lines, records } = capturedLogger('debug');
    const relay = createRelay({ apiKeys: [API_KEY], log });
    const { url } = await relay.listen(0);
    const producer = later(await connectMuxProducer(url, API_KEY), close);
    expect(await producer.emitWithAck('mux:open', { streamId: 'logged-stream' })).toMatchObject({ ok: true });
    expect(await producer.emitWithAck('mux:chunks', { streamId: 'logged-stream', seq: 0, data: ['"a"'] })).toMatchObject({ ok: true });
    expect(await producer.emitWithAck('mux:end', { streamId: 'logged-stream', reason: 'completed', lastSeq: 0 })).toMatchObject({ ok: true });
    await fetch(`${url}/healthz`);
    await relay.close();

    for (const line of lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.trimEnd()).not.toContain('\n');
    }
    const all = records();
    for (const record of all) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(record.level);
    expect(all).toContainEqual(expect.objectContaining({ level: 'debug', component: 'producer', msg: 'stream opened', streamId: 'logged-stream' }));
    expect(all).toContainEqual(
      expect.objectContaining({ level: 'debug', component: 'producer', msg: 'stream ended', streamId: 'logged-stream', reason: 'completed', lastSeq: 0 }),
    );
    expect(all).toContainEqual(expect.objectContaining({ level: 'debug', component: 'http', msg: 'http request', path: '/healthz', status: 200 }));
    expect(all).toContainEqual(expect.objectContaining({ level: 'info', msg: 'relay closing: disconnecting every client' }));
    expect(all).toContainEqual(expect.objectContaining({ level: 'info', msg: 'relay closed' }));
  });

  it('logs refused handshakes and HTTP requests as warnings, one line per kind per interval with a suppressed count', async () => {
    const { log, records } = capturedLogger('info');
    const relay = later(createRelay({ apiKeys: [API_KEY], log }), close);
    const { url } = await relay.listen(0);
    const refusals = 5;
    for (let attempt = 0; attempt < refusals; attempt++) {
      await expect(connectRaw(url, { apiKey: 'wrong-key', auth: { role: 'producer', extensions: ['mux'] } })).rejects.toThrow(/Wrong API key/);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await fetch(`${url}/v1/token`, { method: 'POST', headers: { Authorization: 'Bearer nope' }, body: '{"streamIds":["a"]}' });
      expect(response.status).toBe(401);
    }
    const warnings = records().filter((record) => record.level === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({ transport: 'socket.io', code: 'UNAUTHORIZED', role: 'producer', msg: expect.stringContaining('handshake refused: Wrong API key') }),
      expect.objectContaining({ transport: 'http', code: 'UNAUTHORIZED', path: '/v1/token', msg: expect.stringContaining('request refused: Invalid API key') }),
    ]);
    expect(JSON.stringify(warnings)).not.toContain('wrong-key');
    // Nothing at debug when the level is info.
    expect(records().filter((record) => record.level === 'debug')).toEqual([]);
  });

  it('throttles per kind and reports what it left out on the next line', async () => {
    const { log, records } = capturedLogger('info');
    const throttled = new ThrottledLog(log, 40);
    expect(throttled.write('warn', 'a', { n: 1 }, 'first')).toBe(true);
    expect(throttled.write('warn', 'a', { n: 2 }, 'second')).toBe(false);
    expect(throttled.write('warn', 'a', { n: 3 }, 'third')).toBe(false);
    expect(throttled.write('warn', 'b', { n: 4 }, 'other kind')).toBe(true);
    await until(() => throttled.write('warn', 'a', { n: 5 }, 'after the interval'), 'the interval to pass');
    const lines = records().map(({ msg, n, suppressed }) => ({ msg, n, suppressed }));
    expect(lines[0]).toEqual({ msg: 'first', n: 1, suppressed: undefined });
    expect(lines[1]).toEqual({ msg: 'other kind', n: 4, suppressed: undefined });
    // Writes made while waiting for the interval count as suppressed too (at least the two above).
    expect(lines[2]).toMatchObject({ msg: 'after the interval', n: 5 });
    expect(lines[2]!.suppressed).toBeGreaterThanOrEqual(2);
  });

  it('logs Redis connection errors of the store (throttled), without a password', async () => {
    const { log, records } = capturedLogger('info');
    const store = later(redisStore({ url: 'redis://:hunter2@127.0.0.1:1', log }), close);
    await until(() => records().some((record) => record.level === 'error' && record.component === 'redis'), 'a Redis error line');
    const errors = records().filter((record) => record.component === 'redis');
    expect(errors[0]).toMatchObject({ level: 'error', connection: expect.any(String), msg: expect.stringContaining('ECONNREFUSED') });
    expect(JSON.stringify(records())).not.toContain('hunter2');
    expect((await store.health()).status).toBe('degraded');
  });

  it('accepts the older function form of `log` (warnings and errors only)', async () => {
    const received: string[] = [];
    const relay = later(createRelay({ apiKeys: [API_KEY], log: (message) => received.push(message) }), close);
    const { url } = await relay.listen(0);
    await expect(connectRaw(url, { apiKey: 'wrong-key', auth: { role: 'producer', extensions: ['mux'] } })).rejects.toThrow();
    await until(() => received.length > 0, 'a warning');
    expect(received[0]).toContain('handshake refused: Wrong API key');
  });

  it('formats a line for a terminal', () => {
    const line = JSON.stringify({ level: 'warn', time: Date.UTC(2026, 0, 1, 12, 0, 1, 5), pid: 1, hostname: 'h', component: 'http', msg: 'request refused', code: 'UNAUTHORIZED' });
    expect(formatPrettyLine(`${line}\n`)).toBe('12:00:01.005 WARN  [http] request refused code=UNAUTHORIZED\n');
  });
});
