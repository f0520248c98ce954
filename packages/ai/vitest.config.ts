import { packageTestConfig } from '../../vitest.shared.ts';

// globalSetup starts a relay and the Next.js test app (`next build` once, then `next start`).
export default packageTestConfig('ai', { globalSetup: ['test/global-setup.ts'] });
