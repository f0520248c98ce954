// The `ss-relay` CLI as a user runs it: a real child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli } from './support/relay-process.js';
import { until } from './support/until.js';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// The CLI is tested as shipped: the built `dist/cli.js` (turbo builds it before `test`; built here
// when missing or older than the sources).
let cli = '';
beforeAll(() => {
  cli = ensureBuiltCli();
}, 120_000);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, SS_API_KEY: '', SS_REDIS_URL: '', SS_REDIS_CLUSTER_NODES: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (data) => {
    output += data;
    stdout += data;
  });
  child.stderr!.on('data', (data) => (output += data));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return output;
  };
  return { child, exited, waitFor, output: () => output, stdout: () => stdout };
}

describe('ss-relay CLI', () => {
  it('refuses to start without an API key, with a message that says how', async () => {
    const { exited, output } = run(['--port', '0']);
    expect(await exited).toBe(1);
    expect(output()).toContain('--api-key');
  });

  it('starts, prints its URL, answers /healthz and stops on SIGTERM', async () => {
    const { child, exited, waitFor } = run(['--port', '0', '--host', '127.0.0.1', '--api-key', 'cli-key', '--ttl', '5m']);
    const printed = await waitFor(/listening on (http:\/\/\S+)/);
    const url = /listening on (http:\/\/\S+)/.exec(printed)![1]!;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('logs JSON lines with a level when stdout is not a terminal, at --log-level, shutdown included', async () => {
    const { child, exited, waitFor, stdout } = run(['--port', '0', '--host', '127.0.0.1', '--api-key', 'cli-key', '--log-level', 'debug']);
    const printed = await waitFor(/listening on (http:\/\/[^\s"]+)/);
    const url = /listening on (http:\/\/[^\s"]+)/.exec(printed)![1]!;
    expect((await fetch(`${url}/v1/token`, { method: 'POST', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const records = stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    for (const record of records) expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(record.level);
    const messages = records.map((record) => `${record.level} ${record.msg}`);
    expect(messages).toContainEqual(expect.stringMatching(/^info ss-relay listening on http:/));
    expect(messages).toContainEqual(expect.stringMatching(/^warn request refused: Invalid API key/));
    expect(messages).toContainEqual('debug http request');
    expect(messages).toContainEqual('info ss-relay: SIGTERM, shutting down');
    expect(messages).toContainEqual('info relay closed');
  });

  it('rejects an unknown --log-level and reads SS_LOG_LEVEL', async () => {
    const flag = run(['--api-key', 'k', '--log-level', 'loud']);
    expect(await flag.exited).toBe(1);
    expect(flag.output()).toContain('--log-level must be one of fatal, error, warn, info, debug, trace, silent');
    const port = await freePort();
    const quiet = run(['--port', String(port), '--host', '127.0.0.1', '--api-key', 'k'], { SS_LOG_LEVEL: 'warn' });
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 'the relay to answer');
    quiet.child.kill('SIGTERM');
    expect(await quiet.exited).toBe(0);
    // At warn, neither the listening line nor the shutdown lines are written.
    expect(quiet.stdout()).toBe('');
  });

  it('reads keys from SS_API_KEY (comma separated) and reports a busy port clearly', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { exited, output } = run(['--port', String(port), '--host', '127.0.0.1'], { SS_API_KEY: 'a,b' });
      expect(await exited).toBe(1);
      expect(output()).toContain(`port ${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('rejects a malformed duration', async () => {
    const { exited, output } = run(['--api-key', 'k', '--ttl', 'forever']);
    expect(await exited).toBe(1);
    expect(output()).toContain('--ttl must be a duration');
  });

  it('rejects a malformed --redis-cluster node list, and --redis together with --redis-cluster', async () => {
    const malformed = run(['--api-key', 'k', '--redis-cluster', '127.0.0.1:7000,redis-2']);
    expect(await malformed.exited).toBe(1);
    expect(malformed.output()).toContain('--redis-cluster: Redis Cluster node "redis-2" is not host:port');
    const both = run(['--api-key', 'k', '--redis', 'redis://127.0.0.1:6379'], { SS_REDIS_CLUSTER_NODES: '127.0.0.1:7000' });
    expect(await both.exited).toBe(1);
    expect(both.output()).toContain('not both');
  });

  it('exits 1 with a clear message when the Redis Cluster cannot be reached, never printing its password', async () => {
    const { exited, output } = run(['--api-key', 'k', '--port', '0', '--redis-cluster', 'redis://:hunter2@127.0.0.1:1,127.0.0.1:2']);
    expect(await exited).toBe(1);
    expect(output()).toContain('cannot reach the Redis Cluster at 127.0.0.1:1,127.0.0.1:2');
    expect(output()).toContain('ECONNREFUSED');
    expect(output()).not.toContain('hunter2');
  });
});
