import { packageTestConfig } from '../../vitest.shared.ts';

// globalSetup builds the fixture app (`next build`) and serves it (`next start`).
export default packageTestConfig('nextjs', { globalSetup: ['test/global-setup.ts'] });
