import { configDefaults } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.ts';

// globalSetup starts a relay and the Next.js test app (`next build` once, then `next start`).
// test/ai-v6 runs on its own, with `ai` resolved to the previous major (vitest.ai-v6.config.ts).
export default packageTestConfig('ai', { globalSetup: ['test/global-setup.ts'], exclude: [...configDefaults.exclude, 'test/ai-v6/**'] });
