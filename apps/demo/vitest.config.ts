import { packageTestConfig } from '../../vitest.shared.ts';

// Browser tests start the built demo and Chromium once per file; files run one at a time (2 cores).
export default packageTestConfig('demo', { testTimeout: 60_000, hookTimeout: 300_000, fileParallelism: false });
