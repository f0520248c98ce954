/**
 * The Hono app: a chat route that streams through `@ss/hono`, a token route, and the saved answers.
 */
import { streamResponse, tokenHandler } from '@ss/hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { AnswerStore } from '../answers/answer-store';
import { BAD_PROMPT_MESSAGE, finishedAnswer, isOwnStream, newStreamId, readPrompt, saveAnswer } from '../chat/chat-turn';
import { STREAM_ID_HEADER } from '../page-config';
import type { AppOptions } from './app-options';

/**
 * Builds the Hono app.
 * @param options - API key, relay URL, model, database.
 * @returns the app (serve it with `@hono/node-server`).
 * @example
 * ```ts
 * serve({ fetch: createHonoApp({ apiKey, relayUrl, model: deterministicModel() }).fetch, port: 3001 })
 * ```
 */
export function createHonoApp(options: AppOptions): Hono {
  const { apiKey, relayUrl, model } = options;
  const answers = options.answers ?? new AnswerStore();
  const app = new Hono();
  // The page is served by the Next.js app, on another origin: allow it, and let it read the stream id.
  app.use('/api/*', cors({ origin: (origin) => origin, exposeHeaders: [STREAM_ID_HEADER] }));

  app.post('/api/chat', async (c) => {
    const prompt = readPrompt(await c.req.json().catch(() => null));
    if (prompt === undefined) return c.json({ error: BAD_PROMPT_MESSAGE }, 400);
    const streamId = newStreamId('hono');
    // The adapter reads the model once, to the HTTP response and to the relay; Stop ends the iteration.
    return streamResponse(c, model.stream(prompt), {
      apiKey,
      baseUrl: relayUrl,
      streamId,
      // Runs once, after the model finished (or was stopped) — whether or not a browser is still here.
      onFinish: (result) => saveAnswer(answers, finishedAnswer('hono', prompt, result)),
      onError: (error) => console.error(`[hono] stream ${streamId}: ${error.message}`),
    });
  });

  // Browsers read from the relay with a short-lived token for one stream (that may also Stop it);
  // this app signs only its own streams. A real app checks that the stream belongs to the user here.
  app.post('/api/token', tokenHandler({ apiKey, cancel: true, authorize: (_request, streamId) => isOwnStream('hono', streamId) }));

  app.get('/api/answers', (c) => c.json({ answers: answers.list() }));
  return app;
}

