// Builds the fixture app with a real `next build` (once per test run, skipped when nothing changed
// since the last build) and serves it with `next start` on a free port for every test file.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    nextUrl: string;
  }
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const coreDir = join(packageDir, '../core');
const fixtureDir = join(packageDir, 'test/fixture');
const nextBin = join(packageDir, 'node_modules/next/dist/bin/next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === '.next' || entry === 'node_modules') continue;
    newest = Math.max(newest, newestChange(join(path, entry)));
  }
  return newest;
}

function run(command: string, args: string[], cwd: string, what: string): void {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** The fixture imports the built packages, as an app would: rebuild one whose sources are newer than its dist. */
function ensureBuilt(dir: string): void {
  const built = newestChange(join(dir, 'dist/index.js'));
  if (built === 0 || newestChange(join(dir, 'src')) > built) run('pnpm', ['run', '--silent', 'build'], dir, `building ${dir}`);
}

let server: ChildProcess | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureBuilt(coreDir);
  ensureBuilt(packageDir);
  const buildId = join(fixtureDir, '.next/BUILD_ID');
  const inputs = Math.max(newestChange(fixtureDir), newestChange(join(packageDir, 'dist')), newestChange(join(coreDir, 'dist')));
  if (newestChange(buildId) < inputs) run(process.execPath, [nextBin, 'build'], fixtureDir, 'next build of the test fixture');

  const child = spawn(process.execPath, [nextBin, 'start', '-p', '0', '-H', '127.0.0.1'], { cwd: fixtureDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`next start did not report its URL:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Local:\s+(http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`next start exited with ${code}:\n${output}`));
    });
  });
  project.provide('nextUrl', url);
  return async () => {
    if (server === undefined || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  };
}
