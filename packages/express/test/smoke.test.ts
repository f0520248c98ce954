// Pack-and-install smoke test: `pnpm pack` @ss/core and @ss/express, install the two tarballs plus
// `express` from the registry into a fresh folder, and stream through a relay from a plain Node app
// there — proving a team installs just the adapter it needs and core pulls in no framework.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamstraightClient } from '@ss/client';
import { type Relay, createRelay } from '@ss/relay';
import { afterAll, expect, it } from 'vitest';

const API_KEY = 'smoke-key';
const expressDir = fileURLToPath(new URL('..', import.meta.url));
const coreDir = join(expressDir, '../core');
const work = mkdtempSync(join(tmpdir(), 'ss-smoke-'));
let relay: Relay | undefined;
let app: ChildProcess | undefined;

afterAll(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((resolve) => app?.once('exit', resolve));
    app.kill('SIGTERM');
    await exited;
  }
  await relay?.close();
  rmSync(work, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  return stat.isDirectory() ? Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestChange(join(path, entry)))) : stat.mtimeMs;
}

/** Packs a package (building it first when its dist is missing or older than its sources). */
function pack(dir: string): string {
  if (newestChange(join(dir, 'src')) > newestChange(join(dir, 'dist/index.js'))) run('pnpm', ['run', '--silent', 'build'], dir);
  run('pnpm', ['pack', '--pack-destination', work], dir);
  const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return join(work, `${name.name.replace('@', '').replace('/', '-')}-${name.version}.tgz`);
}

const APP = `
import express from 'express';
import { streamResponse, tokenHandler, StreamstraightError } from '@ss/express';

const apiKey = '${API_KEY}';
async function* tokens() {
  for (let index = 0; index < 50; index++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    yield 'word' + index + ' ';
  }
}
const app = express();
app.get('/chat', (req, res) => {
  streamResponse(req, res, tokens(), {
    apiKey,
    baseUrl: process.env.RELAY_URL,
    streamId: 'smoke-chat',
    onFinish: (result) => console.log('FINISH ' + JSON.stringify({ relay: result.relay === 'ok' ? 'ok' : result.relay.code, text: result.text })),
  });
});
app.post('/token', express.json(), tokenHandler({ apiKey, authorize: () => true }));
const server = app.listen(0, '127.0.0.1', () => console.log('LISTENING ' + server.address().port + ' ' + typeof StreamstraightError));
`;

it('installs @ss/core and @ss/express into a fresh folder with only express, and streams through a relay', async () => {
  const tarballs = [pack(coreDir), pack(expressDir)];
  const appDir = join(work, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }));
  run('npm', ['install', ...tarballs, 'express@5', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], appDir);

  // Core pulls in no framework, and the adapter brings nothing but core.
  const installed = readdirSync(join(appDir, 'node_modules'));
  for (const framework of ['hono', 'next', 'react', 'socket.io', '@hono']) expect(installed).not.toContain(framework);
  expect(readdirSync(join(appDir, 'node_modules/@ss')).sort()).toEqual(['core', 'express']);
  const corePackage = JSON.parse(readFileSync(join(appDir, 'node_modules/@ss/core/package.json'), 'utf8'));
  expect(Object.keys(corePackage.dependencies).sort()).toEqual(['jose', 'socket.io-client']);
  expect(corePackage.peerDependencies).toBeUndefined();
  const expressPackage = JSON.parse(readFileSync(join(appDir, 'node_modules/@ss/express/package.json'), 'utf8'));
  expect(Object.keys(expressPackage.dependencies)).toEqual(['@ss/core']);
  expect(Object.keys(expressPackage.peerDependencies)).toEqual(['express', '@types/express']);
  // The types need @types/express, an optional peer: a JavaScript app need not install it.
  expect(expressPackage.peerDependenciesMeta).toEqual({ '@types/express': { optional: true } });

  relay = createRelay({ apiKeys: [API_KEY], log: () => {} });
  const { url: relayUrl } = await relay.listen(0);
  writeFileSync(join(appDir, 'app.mjs'), APP);
  const child = spawn(process.execPath, ['app.mjs'], { cwd: appDir, env: { ...process.env, RELAY_URL: relayUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  app = child;
  let output = '';
  const line = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = output.split('\n').find((item) => item.startsWith(prefix));
        if (found !== undefined) resolve(found.slice(prefix.length));
      };
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        check();
      });
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`the app exited with ${code}:\n${output}`)));
      check();
    });
  const [port, errorClass] = (await line('LISTENING ')).split(' ');
  expect(errorClass).toBe('function');
  const appUrl = `http://127.0.0.1:${port}`;

  const finished = line('FINISH ');
  const response = await fetch(`${appUrl}/chat`);
  expect(response.headers.get('x-stream-id')).toBe('smoke-chat');
  const body = await response.text();
  const words = Array.from({ length: 50 }, (_, index) => `word${index} `);
  expect(body).toContain('id: 49\ndata: "word49 "\n\nevent: end');

  const tokenResponse = await fetch(`${appUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streamIds":["smoke-chat"]}' });
  const { token } = (await tokenResponse.json()) as { token: string };
  const reader = streamstraightClient<string>({ baseUrl: relayUrl, token }, { streamId: 'smoke-chat', waitForStreamMs: 5_000 });
  const fromRelay: string[] = [];
  for await (const chunk of reader) fromRelay.push(chunk);
  expect(fromRelay).toEqual(words);
  expect(reader.endReason).toBe('completed');
  expect(JSON.parse(await finished)).toEqual({ relay: 'ok', text: words.join('') });
}, 180_000);
