/**
 * The Express app: a chat route that streams through `@ss/express`, a token route, and the saved answers.
 */
import { streamResponse, tokenHandler } from '@ss/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { AnswerStore } from '../answers/answer-store';
import { BAD_PROMPT_MESSAGE, finishedAnswer, isOwnStream, newStreamId, readPrompt, saveAnswer } from '../chat/chat-turn';
import { STREAM_ID_HEADER } from '../page-config';
import type { AppOptions } from './app-options';

/**
 * Builds the Express app.
 * @param options - API key, relay URL, model, database.
 * @returns the app (`app.listen(3002)`).
 * @example
 * ```ts
 * createExpressApp({ apiKey, relayUrl, model: deterministicModel() }).listen(3002)
 * ```
 */
export function createExpressApp(options: AppOptions): Express {
  const { apiKey, relayUrl, model } = options;
  const answers = options.answers ?? new AnswerStore();
  const app = express();
  app.disable('x-powered-by');
  app.use('/api', allowPageOrigin);
  app.use(express.json({ limit: '64kb' }));

  app.post('/api/chat', (req, res) => {
    const prompt = readPrompt(req.body);
    if (prompt === undefined) {
      res.status(400).json({ error: BAD_PROMPT_MESSAGE });
      return;
    }
    const streamId = newStreamId('express');
    // The adapter reads the model once, to this response and to the relay; Stop ends the iteration.
    streamResponse(req, res, model.stream(prompt), {
      apiKey,
      baseUrl: relayUrl,
      streamId,
      // Runs once, after the model finished (or was stopped) — whether or not a browser is still here.
      onFinish: (result) => saveAnswer(answers, finishedAnswer('express', prompt, result)),
      onError: (error) => console.error(`[express] stream ${streamId}: ${error.message}`),
    });
  });

  // Browsers read from the relay with a short-lived token for one stream (that may also Stop it);
  // this app signs only its own streams. A real app checks that the stream belongs to the user here.
  app.post('/api/token', tokenHandler({ apiKey, cancel: true, authorize: (_request, streamId) => isOwnStream('express', streamId) }));

  app.get('/api/answers', (_req, res) => {
    res.json({ answers: answers.list() });
  });
  return app;
}

/** CORS for the page, which the Next.js app serves from another origin; it must read the stream id header. */
function allowPageOrigin(req: Request, res: Response, next: NextFunction): void {
  const origin = req.headers.origin;
  if (origin) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', STREAM_ID_HEADER);
  }
  if (req.method === 'OPTIONS') {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'content-type');
    res.setHeader('access-control-max-age', '600');
    res.status(204).end();
    return;
  }
  next();
}
