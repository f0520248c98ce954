// What a team installs: every publishable package packed as it would be published, then checked
// with publint (--strict) and Are the Types Wrong (ESM-only profile), its tarball's contents, and
// `require()` of every entry point from CommonJS on the running Node (20.19+ loads ESM there).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, publishablePackages, root, type WorkspacePackage } from './support/workspace.js';

const run = promisify(execFile);
const bin = (name: string) => join(root, 'tools/release/node_modules/.bin', name);
const packages = publishablePackages();
const packDir = mkdtempSync(join(tmpdir(), 'ss-packs-'));
const tarballs = new Map<string, string>();

beforeAll(async () => {
  // One at a time: pnpm pack runs each package's prepack and writes into one folder.
  for (const pkg of packages) tarballs.set(pkg.name, await pack(pkg, packDir));
});
afterAll(() => rmSync(packDir, { recursive: true, force: true }));

/** The files of a tarball, without the leading `package/`. */
async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['tzf', tarball]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
}

/** Every file an `exports` map points at. */
function exportTargets(pkg: WorkspacePackage): string[] {
  const targets: string[] = [];
  for (const entry of Object.values(pkg.manifest.exports ?? {})) {
    if (typeof entry === 'string') targets.push(entry);
    else targets.push(...Object.values(entry));
  }
  return targets.map((target) => target.replace(/^\.\//, ''));
}

describe.each(packages.map((pkg) => [pkg.name, pkg] as const))('%s as packed', (name, pkg) => {
  it('passes publint --strict', async () => {
    const result = await run(bin('publint'), ['run', tarballs.get(name)!, '--strict'], { cwd: root }).catch((error: { stdout: string; stderr: string }) => error);
    expect(`${result.stdout}${result.stderr}`).toContain('All good!');
  });

  it('passes attw with the ESM-only profile', async () => {
    const result = await run(bin('attw'), [tarballs.get(name)!, '--profile', 'esm-only', '--format', 'json'], { cwd: root }).then(
      (ok) => ({ code: 0, stdout: ok.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    const { problems } = JSON.parse(result.stdout) as { problems: Record<string, Array<{ resolutionKind: string }>> };
    const counted = Object.values(problems)
      .flat()
      .filter((problem) => problem.resolutionKind !== 'node10' && problem.resolutionKind !== 'node16-cjs');
    expect(counted).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('ships LICENSE, README.md, every exports target (a default condition on each), and no tests', async () => {
    const files = await tarballFiles(tarballs.get(name)!);
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    for (const target of exportTargets(pkg)) expect(files, `${target} is in exports but not in the tarball`).toContain(target);
    for (const [subpath, entry] of Object.entries(pkg.manifest.exports ?? {})) {
      if (typeof entry === 'object') expect(entry, `exports["${subpath}"] has no default condition`).toHaveProperty('default');
    }
    expect(files.filter((file) => /\.test\.ts$|\.contract\.ts$/.test(file))).toEqual([]);
  });

  it('keeps the node: prefix of built-in imports in its built code', async () => {
    const { stdout } = await run('tar', ['xzOf', tarballs.get(name)!, '--wildcards', 'package/dist/*.js']);
    expect(stdout).not.toMatch(/from "(fs|http|https|net|os|path|url|util|crypto|stream|events|child_process|timers|async_hooks)(\/[a-z]+)?"/);
  });

  it('has repository, homepage, bugs and keywords', () => {
    const manifest = pkg.manifest as Record<string, unknown>;
    expect(manifest.repository).toMatchObject({ type: 'git', url: expect.stringMatching(/^git\+https:/), directory: expect.stringMatching(/^packages\//) });
    expect(manifest.homepage).toEqual(expect.any(String));
    expect(manifest.bugs).toMatchObject({ url: expect.any(String) });
    expect((manifest.keywords as string[]).length).toBeGreaterThan(2);
  });

  it('its README has no link out of the package (a packed README cannot follow ../)', async () => {
    const { stdout } = await run('tar', ['xzOf', tarballs.get(name)!, 'package/README.md']);
    expect(stdout.match(/\]\(\.\.\/[^)]*\)/g) ?? []).toEqual([]);
  });
});

describe('require() from CommonJS', () => {
  it('loads every entry of every package on this Node', async () => {
    const entries = packages.flatMap((pkg) =>
      Object.keys(pkg.manifest.exports ?? {})
        .filter((subpath) => subpath !== './package.json')
        .map((subpath) => `${pkg.name}${subpath.slice(1)}`),
    );
    expect(entries).toContain('@ss/core/protocol');
    // A .cjs file in this package, so `require` resolves through its node_modules like an app's would.
    const script = entries.map((entry) => `if (Object.keys(require(${JSON.stringify(entry)})).length === 0) throw new Error('empty: ${entry}')`).join(';');
    const { stdout, stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', `${script}; console.log('ok')`], {
      cwd: join(root, 'tools/release'),
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('ok');
  });
});
