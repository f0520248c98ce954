// A release as the maintainers run it — `pnpm release` (changesets version → build → publish) — into
// a real local registry (Verdaccio, started here on a free port), from a copy of this repository.
// Then, in fresh folders, a team installs only what it needs from that registry: the relay's CLI
// (`@ss/relay`) and only `@ss/express`, and runs the Express README's route against that relay.
// Independence: a changeset on one adapter bumps that adapter and nothing else.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snippetsOf } from './support/snippets.js';
import { publishablePackages, root } from './support/workspace.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'ss-release-'));
const children: ChildProcess[] = [];
let registry = '';
let npmrc = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startProcess(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...cleanEnv(), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  return { child, output: () => output };
}

/**
 * The environment of this process without what `pnpm run` adds for its scripts (npm_config_* such as
 * the workspace's overrides, npm_package_*…): npm in a fresh folder must see only its own settings.
 */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|pnpm_|PNPM_)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

/** Environment for npm/pnpm talking to the local registry only. */
const registryEnv = () => ({
  ...cleanEnv(),
  npm_config_registry: registry,
  npm_config_userconfig: npmrc,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
});

/** `npm install` in a fresh folder, tried again once: the registry proxies the other packages from upstream, over the network. */
async function npmInstall(args: string[], cwd: string): Promise<void> {
  const attempt = () => run('npm', ['install', ...args], { cwd, env: registryEnv(), maxBuffer: 32 * 1024 * 1024 });
  await attempt().catch(async (first: { stderr?: string }) => {
    await attempt().catch((second: { stderr?: string }) => {
      throw new Error(`npm install ${args.join(' ')} failed twice:\n${first.stderr}\n---\n${second.stderr}`);
    });
  });
}

beforeAll(async () => {
  // The registry: our scope is published here; everything else is proxied from the configured upstream.
  const { stdout: upstream } = await run('npm', ['config', 'get', 'registry'], { env: cleanEnv() });
  const port = await freePort();
  registry = `http://127.0.0.1:${port}/`;
  const config = join(work, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(work, 'storage')}`,
      'auth:',
      `  htpasswd: { file: ${join(work, 'htpasswd')}, max_users: 10 }`,
      `uplinks:\n  upstream: { url: ${upstream.trim()}, timeout: 60s }`,
      'packages:',
      "  '@ss/*': { access: $all, publish: $authenticated }",
      "  '**': { access: $all, proxy: upstream }",
      'log: { type: stdout, format: pretty, level: warn }',
    ].join('\n'),
  );
  const verdaccio = startProcess(join(root, 'tools/release/node_modules/.bin/verdaccio'), ['--config', config, '--listen', `127.0.0.1:${port}`], { cwd: work, env: cleanEnv() });
  await until('Verdaccio', async () => ((await fetch(`${registry}-/ping`)).ok ? true : undefined), 30_000).catch((error) => {
    throw new Error(`${(error as Error).message}\n${verdaccio.output()}`);
  });
  const user = await fetch(`${registry}-/user/org.couchdb.user:release-test`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release-test', password: 'release-test-password' }),
  });
  const { token } = (await user.json()) as { token: string };
  npmrc = join(work, '.npmrc');
  writeFileSync(npmrc, `registry=${registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('pnpm release into a local registry', () => {
  const copy = join(work, 'repo');
  const before = new Map(publishablePackages().map((pkg) => [pkg.name, pkg.manifest.version]));

  it('versions only the adapter with a changeset, builds, and publishes every package', async () => {
    // A copy of the repository's packages (sources and manifests; no build output, no node_modules).
    mkdirSync(copy);
    for (const file of ['package.json', 'pnpm-lock.yaml', 'turbo.json', 'tsconfig.base.json', 'LICENSE', 'README.md']) cpSync(join(root, file), join(copy, file));
    writeFileSync(join(copy, 'pnpm-workspace.yaml'), readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').replace(/ {2}- apps\/\*\n {2}- tools\/\*\n/, ''));
    for (const pkg of publishablePackages()) {
      cpSync(pkg.dir, join(copy, 'packages', pkg.dir.split('/').pop()!), {
        recursive: true,
        filter: (source) => !/\/(node_modules|dist|\.turbo)(\/|$)/.test(source),
      });
    }
    // Pending changesets replaced by one: a fix in the Express adapter.
    mkdirSync(join(copy, '.changeset'));
    // The config as it is, less the private apps this copy leaves out (changesets refuses unknown names).
    const changesetConfig = JSON.parse(readFileSync(join(root, '.changeset/config.json'), 'utf8')) as { ignore: string[] };
    changesetConfig.ignore = changesetConfig.ignore.filter((name) => before.has(name));
    writeFileSync(join(copy, '.changeset/config.json'), JSON.stringify(changesetConfig, null, 2));
    writeFileSync(join(copy, '.changeset/express-fix.md'), '---\n"@ss/express": patch\n---\n\nA fix in the Express adapter only.\n');
    await run('git', ['init', '-q', '-b', 'main'], { cwd: copy });
    await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--reporter=silent'], { cwd: copy, env: { ...cleanEnv(), CI: 'true' } });

    const { stdout, stderr } = await run('pnpm', ['run', 'release'], { cwd: copy, env: { ...registryEnv(), TURBO_TELEMETRY_DISABLED: '1' }, maxBuffer: 32 * 1024 * 1024 }).catch(
      (error: { stdout: string; stderr: string }) => {
        throw new Error(`pnpm release failed:\n${error.stdout}\n${error.stderr}`);
      },
    );
    // Independence: @ss/express went 0.0.0 → 0.0.1; nothing else moved (nothing depends on it).
    for (const pkg of publishablePackages()) {
      const manifest = JSON.parse(readFileSync(join(copy, 'packages', pkg.dir.split('/').pop()!, 'package.json'), 'utf8')) as { version: string };
      const expected = pkg.name === '@ss/express' ? '0.0.1' : before.get(pkg.name);
      expect(manifest.version, `${pkg.name} after changeset version\n${stdout}\n${stderr}`).toBe(expected);
    }
    expect(readdirSync(join(copy, 'packages/express'))).toContain('CHANGELOG.md');
    // Every package is on the registry, at its version.
    for (const pkg of publishablePackages()) {
      const document = (await (await fetch(`${registry}${pkg.name.replace('/', '%2f')}`)).json()) as { versions?: Record<string, unknown> };
      const expected = pkg.name === '@ss/express' ? '0.0.1' : before.get(pkg.name)!;
      expect(Object.keys(document.versions ?? {}), `${pkg.name} on the registry`).toContain(expected);
    }
  });

  it('installs only @ss/nextjs (with next 16), and separately only @ss/ai, and loads their entries', async () => {
    const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: registryEnv(), maxBuffer: 32 * 1024 * 1024 });
    const folders = [
      { dir: join(work, 'nextjs-app'), install: ['@ss/nextjs', 'next@16', 'react@19', 'react-dom@19'], ours: ['core', 'nextjs'], entries: ['@ss/nextjs'] },
      { dir: join(work, 'ai-app'), install: ['@ss/ai', 'ai'], ours: ['ai', 'client', 'core'], entries: ['@ss/ai', '@ss/ai/server'] },
    ];
    for (const { dir, install } of folders) {
      mkdirSync(dir);
      await npm(['init', '-y'], dir);
      await npm(['pkg', 'set', 'type=module'], dir);
      await npmInstall(install, dir);
    }
    for (const { dir, ours, entries } of folders) {
      expect(readdirSync(join(dir, 'node_modules/@ss')).sort()).toEqual(ours);
      const script = entries.map((entry) => `if (Object.keys(await import(${JSON.stringify(entry)})).length === 0) throw new Error('${entry} is empty');`).join('\n');
      writeFileSync(join(dir, 'load.mjs'), `${script}\nconsole.log('loaded')\n`);
      const { stdout } = await run(process.execPath, ['load.mjs'], { cwd: dir });
      expect(stdout.trim()).toBe('loaded');
    }
  });

  it("installs only @ss/express in a fresh folder and runs the README's route against the published relay CLI", async () => {
    const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: registryEnv(), maxBuffer: 32 * 1024 * 1024 });
    // The relay, from its published CLI.
    const relayDir = join(work, 'relay-app');
    mkdirSync(relayDir);
    await npm(['init', '-y'], relayDir);
    await npmInstall(['@ss/relay'], relayDir);
    const relay = startProcess(join(relayDir, 'node_modules/.bin/ss-relay'), ['--port', '0', '--host', '127.0.0.1', '--api-key', 'sk_release_test'], { cwd: relayDir });
    const relayUrl = await until('the published relay', async () => /listening on (http:\/\/[^\s"]+)/.exec(relay.output())?.[1], 30_000);

    // The app: only @ss/express (and express) installed.
    const appDir = join(work, 'express-app');
    mkdirSync(appDir);
    await npm(['init', '-y'], appDir);
    await npmInstall(['@ss/express', 'express'], appDir);
    const installed = readdirSync(join(appDir, 'node_modules/@ss')).sort();
    expect(installed).toEqual(['core', 'express']);
    const route = snippetsOf(join(root, 'packages/express/README.md')).find((snippet) => snippet.kind === 'server')!;
    const { code } = await transform(route.code, { loader: 'ts', format: 'esm', target: 'node20' });
    writeFileSync(join(appDir, 'server.mjs'), code);
    const port = await freePort();
    const app = startProcess(process.execPath, ['server.mjs'], {
      cwd: appDir,
      env: { PORT: String(port), SS_API_KEY: 'sk_release_test', STREAMSTRAIGHT_API_BASE_URL: relayUrl },
    });
    const response = await until(`the app on ${port}`, () =>
      fetch(`http://127.0.0.1:${port}${route.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(route.body) }),
    ).catch((error) => {
      throw new Error(`${(error as Error).message}\n${app.output()}`);
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('hello');
    const streamId = response.headers.get('x-stream-id')!;
    const info = await until('the stream to end on the relay', async () => {
      const answer = await fetch(`${relayUrl}/v1/streams/${encodeURIComponent(streamId)}`, { headers: { Authorization: 'Bearer sk_release_test' } });
      const body = (await answer.json()) as { status?: string; endReason?: string };
      return body.status === 'ended' ? body : undefined;
    });
    expect(info.endReason).toBe('completed');
  });
});
