// The repository's own commands as a newcomer types them: help that prints help, not a stack trace.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { root } from './support/workspace.js';

const run = promisify(execFile);
const bench = join(root, 'apps/bench/dist/main.js'); // what `pnpm bench` runs after building it

describe('pnpm bench', () => {
  it('--help prints the options (and says --quick figures are not comparable)', async () => {
    const { stdout } = await run(process.execPath, [bench, '--help']);
    expect(stdout).toMatch(/^Usage: pnpm bench \[options\]/);
    expect(stdout).toContain('NOT comparable with a full run');
  });

  it('an unknown option gives the usage and exit code 1, no stack trace', async () => {
    const failure = await run(process.execPath, [bench, '--fast']).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("pnpm bench: Unknown option '--fast'");
    expect(failure?.stderr).not.toMatch(/\n\s+at /);
  });
});
