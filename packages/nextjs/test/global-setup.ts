// Builds the fixture app (test/fixture) with a real `next build` (once per test run, skipped when
// nothing changed since the last build) and serves it with `next start` for every test file.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startNextFixture } from './support/next-fixture.js';

declare module 'vitest' {
  export interface ProvidedContext {
    nextUrl: string;
  }
}

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fixture = await startNextFixture({
    fixtureDir: join(packageDir, 'test/fixture'),
    nextPackageDir: packageDir,
    packageDirs: [join(packageDir, '../core'), packageDir],
  });
  project.provide('nextUrl', fixture.url);
  return fixture.stop;
}
