// The demo as the README starts it: the built launcher (dist/main.js, which `pnpm demo` runs after
// building), as a child process on free ports.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = fileURLToPath(new URL('../..', import.meta.url));
const launcher = join(demoDir, 'dist', 'main.js');

/** Builds the demo (launcher and Next.js app) when a build is missing, as `pnpm demo` would. */
export function ensureBuiltDemo(): void {
  if (existsSync(launcher) && existsSync(join(demoDir, '.next', 'BUILD_ID'))) return;
  try {
    execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@ss/demo...', '--output-logs=errors-only'], {
      cwd: demoDir,
      stdio: 'pipe',
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', TURBO_TELEMETRY_DISABLED: '1' },
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: Buffer | string; stderr?: Buffer | string };
    throw new Error(`building the demo failed:\n${String(stdout)}${String(stderr)}`);
  }
}

/** A running demo and where its parts listen. */
export interface DemoProcess extends AsyncDisposable {
  readonly pageUrl: string;
  readonly appUrls: { next: string; hono: string; express: string };
  readonly relayUrl: string;
  readonly apiKey: string;
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Sends `signal` (default SIGINT, as Ctrl-C) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node apps/demo/dist/main.js` on free ports and waits for its banner.
 * @param args - extra arguments, for example `['--tokens-per-second', '150']`.
 * @param env - extra environment variables.
 */
export async function startDemo(args: string[] = [], env: Record<string, string> = {}): Promise<DemoProcess> {
  ensureBuiltDemo();
  const child = spawn(
    process.execPath,
    [launcher, '--port', '0', '--hono-port', '0', '--express-port', '0', '--relay-port', '0', '--host', '127.0.0.1', ...args],
    {
      cwd: demoDir,
      // The built-in model, always: the tests know its answers.
      env: { ...process.env, OPENAI_API_KEY: '', SS_API_KEY: '', NEXT_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the demo did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const field = (label: string) => {
    const match = new RegExp(`^\\s*${label}\\s+(\\S+)`, 'm').exec(output);
    if (!match) throw new Error(`the demo's banner has no "${label}" line:\n${output}`);
    return match[1]!;
  };
  const origin = (url: string) => new URL(url).origin;
  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    pageUrl: field('Page'),
    appUrls: { next: origin(field('Next.js app')), hono: origin(field('Hono app')), express: origin(field('Express app')) },
    relayUrl: field('Relay'),
    apiKey: field('API key'),
    child,
    output: () => output,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/**
 * Runs the launcher with `args` until it exits by itself (a start that fails).
 * @returns its exit code and everything it printed.
 */
export async function runDemoToExit(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  ensureBuiltDemo();
  const child = spawn(process.execPath, [launcher, ...args], {
    cwd: demoDir,
    env: { ...process.env, OPENAI_API_KEY: '', SS_API_KEY: '', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (data) => (output += data));
  child.stderr!.on('data', (data) => (output += data));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, output };
}
