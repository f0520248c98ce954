// Shared Vitest settings for every workspace package.
// - `@ss/*` imports resolve to the TypeScript sources, so tests never run against a stale build.
// - Each package writes a JSON report that `scripts/test.mjs` sums into one "N passed, N failed" line.
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

const sourceAliases = {
  '@ss/core/node': `${root}packages/core/src/node.ts`,
  '@ss/core/protocol': `${root}packages/core/src/protocol.ts`,
  '@ss/core/http': `${root}packages/core/src/http.ts`,
  '@ss/core': `${root}packages/core/src/index.ts`,
  '@ss/relay': `${root}packages/relay/src/index.ts`,
  '@ss/client/sse': `${root}packages/client/src/sse.ts`,
  '@ss/client': `${root}packages/client/src/index.ts`,
  '@ss/hono': `${root}packages/hono/src/index.ts`,
  '@ss/express': `${root}packages/express/src/index.ts`,
  '@ss/nextjs': `${root}packages/nextjs/src/index.ts`,
  '@ss/ai/server': `${root}packages/ai/src/server.ts`,
  '@ss/ai': `${root}packages/ai/src/index.ts`,
};

/** Builds a package's Vitest config; `name` names its JSON report. */
export function packageTestConfig(name: string, overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return defineConfig({
    resolve: { alias: sourceAliases },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      reporters: ['default', 'json'],
      outputFile: { json: `${root}.test-reports/${name}.json` },
      ...overrides,
    },
  });
}
