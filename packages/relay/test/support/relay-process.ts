// The relay as its own process (the built `ss-relay` CLI), for tests that kill it with SIGKILL.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(packageDir, 'dist', 'cli.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds `dist/cli.js` (and what it depends on) unless it is newer than every source file. */
export function ensureBuiltCli(): string {
  const sources = Math.max(newestSource(join(packageDir, 'src')), newestSource(join(packageDir, '..', 'core', 'src')));
  if (!existsSync(cli) || statSync(cli).mtimeMs < sources) {
    try {
      execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@ss/relay...', '--output-logs=errors-only'], { cwd: packageDir, stdio: 'pipe' });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: Buffer | string; stderr?: Buffer | string };
      throw new Error(`building ss-relay for the process tests failed:\n${String(stdout)}${String(stderr)}`);
    }
  }
  return cli;
}

export interface RelayProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `ss-relay` with `args` (plus `--port 0 --host 127.0.0.1`) and waits for "listening on".
 * @param args - CLI arguments, e.g. `['--api-key', key, '--redis', url]`.
 * @param env - extra environment variables.
 * @returns the running relay.
 */
export async function startRelayProcess(args: string[], env: Record<string, string> = {}): Promise<RelayProcess> {
  const child = spawn(process.execPath, [ensureBuiltCli(), '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { ...process.env, SS_API_KEY: '', SS_REDIS_URL: '', SS_REDIS_CLUSTER_NODES: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 15_000;
  let match: RegExpExecArray | null = null;
  while (!(match = /listening on (http:\/\/\S+)/.exec(output))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ss-relay did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const url = match[1]!;
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * Runs `ss-relay` with `args` until it exits by itself (a start that must fail).
 * @param args - CLI arguments.
 * @param env - extra environment variables.
 * @returns its exit code and everything it printed.
 */
export async function runRelayProcessToExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [ensureBuiltCli(), ...args], {
    env: { ...process.env, SS_API_KEY: '', SS_REDIS_URL: '', SS_REDIS_CLUSTER_NODES: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}
