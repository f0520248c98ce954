import { defineConfig } from 'tsup';

// The launcher (dist/main.js). The Next.js app (app/) is built by `next build`.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  sourcemap: true,
});
