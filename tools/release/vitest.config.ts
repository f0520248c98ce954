import { packageTestConfig } from '../../vitest.shared.ts';

// Packing, installing and publishing take a while on a 2-core machine.
export default packageTestConfig('release-tests', { testTimeout: 240_000, hookTimeout: 240_000 });
