/**
 * `@ss/ai` (browser-safe entry): a `ChatTransport` for the Vercel AI SDK's `useChat` that resumes
 * answers through the Streamstraight relay. No Node imports here.
 */
export {};
