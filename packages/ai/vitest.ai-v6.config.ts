import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.ts';

// The transport against the previous major of the AI SDK: `ai` resolves to `ai-v6` (ai 6.x) for
// the transport's source and the test alike.
const aiV6 = fileURLToPath(new URL('./node_modules/ai-v6', import.meta.url));
export default mergeConfig(packageTestConfig('ai-v6', { include: ['test/ai-v6/**/*.test.ts'] }), { resolve: { alias: { ai: aiV6 } } });
