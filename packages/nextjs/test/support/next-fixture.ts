// Builds a Next.js fixture app with a real `next build` (skipped when nothing changed since the last
// build) and serves it with `next start` on a free port. Used by @ss/nextjs's and @ss/ai's global
// setups (imported by relative path, as the adapter contract is).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): void {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
}

/** What {@link startNextFixture} needs. */
export interface NextFixtureOptions {
  /** The fixture app's folder. */
  fixtureDir: string;
  /** Where `next` is installed (`<dir>/node_modules/next`). */
  nextPackageDir: string;
  /** Workspace packages the fixture imports built, as an app would: rebuilt when their sources are newer than their dist. */
  packageDirs: string[];
  /** Other folders whose changes call for a new `next build` (shared test support the fixture imports). */
  extraInputs?: string[];
  /** Environment of `next start` (besides the process's own). */
  env?: Record<string, string>;
}

/** A running fixture. */
export interface NextFixture {
  url: string;
  stop(): Promise<void>;
}

/**
 * Builds (when needed) and starts a fixture app.
 * @param options - where the fixture and its packages are.
 * @returns its URL and a stop function.
 */
export async function startNextFixture(options: NextFixtureOptions): Promise<NextFixture> {
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...options.env };
  const nextBin = join(options.nextPackageDir, 'node_modules/next/dist/bin/next');
  for (const dir of options.packageDirs) {
    const built = newestChange(join(dir, 'dist/index.js'));
    if (built === 0 || newestChange(join(dir, 'src')) > built) run('pnpm', ['run', '--silent', 'build'], dir, env, `building ${dir}`);
  }
  const buildId = join(options.fixtureDir, '.next/BUILD_ID');
  const inputs = Math.max(
    newestChange(options.fixtureDir),
    ...options.packageDirs.map((dir) => newestChange(join(dir, 'dist'))),
    ...(options.extraInputs ?? []).map(newestChange),
  );
  if (newestChange(buildId) < inputs) run(process.execPath, [nextBin, 'build'], options.fixtureDir, env, `next build of ${options.fixtureDir}`);

  const child: ChildProcess = spawn(process.execPath, [nextBin, 'start', '-p', '0', '-H', '127.0.0.1'], { cwd: options.fixtureDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
