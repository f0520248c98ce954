// The publishable packages of the workspace, and packing them as `pnpm publish` would.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** The repository root. */
export const root = fileURLToPath(new URL('../../../../', import.meta.url));

export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: {
    name: string;
    version: string;
    private?: boolean;
    exports?: Record<string, string | Record<string, string>>;
    files?: string[];
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
}

/** Every non-private package under packages/. */
export function publishablePackages(): WorkspacePackage[] {
  return readdirSync(join(root, 'packages'))
    .map((entry) => join(root, 'packages', entry))
    .filter((dir) => {
      try {
        readFileSync(join(dir, 'package.json'));
        return true;
      } catch {
        return false;
      }
    })
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as WorkspacePackage['manifest'];
      return { name: manifest.name, dir, manifest };
    })
    .filter((pkg) => !pkg.manifest.private);
}

/** pnpm, from the PATH or through npx (CI installs it; a developer may not have it on the PATH). */
export const pnpmCommand = (): { command: string; prefix: string[] } =>
  process.env.npm_execpath?.includes('pnpm') ? { command: process.execPath, prefix: [process.env.npm_execpath] } : { command: 'pnpm', prefix: [] };

/**
 * Packs `pkg` into `destination` with pnpm (workspace: ranges become versions, like a publish).
 * @returns the tarball's path.
 */
export async function pack(pkg: WorkspacePackage, destination: string): Promise<string> {
  const { command, prefix } = pnpmCommand();
  const { stdout } = await run(command, [...prefix, 'pack', '--pack-destination', destination], { cwd: pkg.dir });
  const tarball = stdout.trim().split('\n').pop()!.trim();
  return tarball.startsWith('/') ? tarball : join(destination, tarball);
}
