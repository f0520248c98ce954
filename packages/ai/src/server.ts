/**
 * `@ss/ai/server`: the server half of the Vercel AI SDK integration.
 */
export {};
