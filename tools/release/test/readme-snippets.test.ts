// Every README's code blocks, as a user copies them (the convention: docs/readme-snippets.md):
// programs run to exit 0 and servers answer their route, against a real relay; fragments parse.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRelay, type Relay, silentLogger } from '@ss/relay';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmes, type Snippet, snippetsOf } from './support/snippets.js';
import { root } from './support/workspace.js';

const API_KEY = 'sk_readme_snippets';
const workDir = join(root, 'tools/release/.snippets');
let relay: Relay;
let relayUrl = '';

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  relay = createRelay({ apiKeys: [API_KEY], log: silentLogger });
  relayUrl = (await relay.listen(0)).url;
});
afterAll(async () => {
  await relay?.close();
  rmSync(workDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The snippet as an .mjs file next to this package's node_modules (so its imports resolve like an app's). */
async function writeModule(snippet: Snippet): Promise<string> {
  const { code } = await transform(snippet.code, { loader: snippet.language === 'tsx' ? 'tsx' : snippet.language.startsWith('t') ? 'ts' : 'js', format: 'esm', target: 'node20' });
  const file = join(workDir, `${snippet.where.replace(/[^\w]+/g, '_')}.mjs`);
  writeFileSync(file, code);
  return file;
}

function start(file: string, env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [file], {
    cwd: workDir,
    env: { ...process.env, SS_API_KEY: API_KEY, STREAMSTRAIGHT_API_BASE_URL: relayUrl, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const all = readmes().flatMap((file) => snippetsOf(file));

describe('README snippets', () => {
  it('finds the READMEs and their snippets', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((snippet) => snippet.kind === 'program')).toBe(true);
    expect(all.some((snippet) => snippet.kind === 'server')).toBe(true);
  });

  it.each(all.map((snippet) => [`${snippet.where} (${snippet.kind})`, snippet] as const))('%s', async (_, snippet) => {
    const file = await writeModule(snippet); // a fragment only has to get this far: it parses
    if (snippet.kind === 'fragment') return;
    const port = await freePort();
    const process = start(file, { PORT: String(port) });
    try {
      if (snippet.kind === 'program') {
        const code = await Promise.race([process.exited, sleep(30_000).then(() => 'timeout' as const)]);
        expect(code, `${snippet.where} printed:\n${process.output()}`).toBe(0);
        return;
      }
      // A server: wait for it, then send its request twice (the same chat's second answer must get a
      // stream of its own on the relay), read each answer, and see each stream end completed on the relay.
      const send = () =>
        fetch(`http://127.0.0.1:${port}${snippet.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(snippet.body) });
      const deadline = Date.now() + 30_000;
      let first: Response | undefined;
      while (!first) {
        if (process.child.exitCode !== null) throw new Error(`${snippet.where} exited with ${process.child.exitCode}:\n${process.output()}`);
        if (Date.now() > deadline) throw new Error(`${snippet.where} did not answer on port ${port}:\n${process.output()}`);
        first = await send().catch(() => undefined);
        if (!first) await sleep(50);
      }
      const streamIds = new Set<string>();
      for (const response of [first, await send()]) {
        const text = await response.text();
        expect(response.status, `${snippet.where} answered ${response.status}: ${text}\n${process.output()}`).toBeLessThan(300);
        expect(text.length).toBeGreaterThan(0);
        const streamId = response.headers.get('x-stream-id');
        expect(streamId, 'the route answers with x-stream-id').toBeTruthy();
        streamIds.add(streamId!);
        const relayDeadline = Date.now() + 15_000;
        let info: { status?: string; endReason?: string } = {};
        while (info.status !== 'ended') {
          if (Date.now() > relayDeadline) throw new Error(`the relay never ended stream ${streamId} (last: ${JSON.stringify(info)}):\n${process.output()}`);
          const answer = await fetch(`${relayUrl}/v1/streams/${encodeURIComponent(streamId!)}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
          info = answer.ok ? ((await answer.json()) as typeof info) : {};
          if (info.status !== 'ended') await sleep(50);
        }
        expect(info.endReason).toBe('completed');
      }
      expect(streamIds.size, 'one relay stream per answer').toBe(2);
    } finally {
      if (process.child.exitCode === null) process.child.kill('SIGKILL');
      await process.exited;
    }
  });
});
