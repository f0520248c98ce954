import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// The README's Next.js routes for @ss/ai's transport tests: route handlers only, built once per test run.
const config: NextConfig = {
  // The workspace root (where the lockfile is): the @ss/* packages and `ai` resolve from there.
  turbopack: { root: fileURLToPath(new URL('../../../..', import.meta.url)) },
};

export default config;
