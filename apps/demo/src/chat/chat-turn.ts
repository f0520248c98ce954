/**
 * The part of a chat route that is the same in all three apps: read the prompt, name the stream,
 * and save the answer when the adapter's `onFinish` reports how it ended.
 */
import { randomUUID } from 'node:crypto';
import type { AnswerStatus, AnswerStore, NewAnswer, SavedAnswer } from '../answers/answer-store';
import type { Backend } from '../page-config';

/** Longest prompt accepted, in characters. */
export const MAX_PROMPT_LENGTH = 4000;

/** What the chat routes answer (400) to a body without a usable prompt. */
export const BAD_PROMPT_MESSAGE = `Send JSON { "prompt": "…" }: a non-empty prompt of at most ${MAX_PROMPT_LENGTH} characters.`;

/**
 * Reads the prompt from a chat request's JSON body.
 * @param body - the parsed body (anything).
 * @returns the trimmed prompt, or undefined when there is no usable one (answer 400 {@link BAD_PROMPT_MESSAGE}).
 * @example
 * ```ts
 * const prompt = readPrompt(await request.json().catch(() => null))
 * ```
 */
export function readPrompt(body: unknown): string | undefined {
  const prompt = typeof body === 'object' && body !== null ? (body as { prompt?: unknown }).prompt : undefined;
  if (typeof prompt !== 'string' || prompt.trim() === '' || prompt.length > MAX_PROMPT_LENGTH) return undefined;
  return prompt.trim();
}

/**
 * A new stream id for an answer: the backend's name, so the token route can check it, and a UUID.
 * @param backend - the app.
 * @returns for example `hono-3b2f…`.
 */
export function newStreamId(backend: Backend): string {
  return `${backend}-${randomUUID()}`;
}

/**
 * @param backend - the app.
 * @param streamId - a stream id the page asks a token for.
 * @returns whether this app made that stream (its token route only signs its own streams).
 */
export function isOwnStream(backend: Backend, streamId: string): boolean {
  return streamId.startsWith(`${backend}-`) && streamId.length <= 64;
}

/** The part of the adapters' `onFinish` result a save needs (`TeeResult` from `@ss/core`). */
export interface FinishResult {
  streamId: string;
  text: string;
  lastSeq: number;
  cancelled: boolean;
  error: { message: string } | undefined;
}

/**
 * The row to save for a finished generation.
 * @param backend - the app.
 * @param prompt - what was asked.
 * @param result - what `onFinish` received.
 * @returns `stopped` when a reader pressed Stop, `failed` when the model failed, else `completed`.
 */
export function finishedAnswer(backend: Backend, prompt: string, result: FinishResult): NewAnswer {
  const status: AnswerStatus = result.error ? 'failed' : result.cancelled ? 'stopped' : 'completed';
  return {
    streamId: result.streamId,
    backend,
    prompt,
    text: result.text,
    chunks: result.lastSeq + 1,
    status,
    ...(result.error ? { error: result.error.message } : {}),
  };
}

/**
 * Saves a finished answer: the one line a real app would replace with its database write.
 * @param answers - the app's store.
 * @param row - what to save.
 * @returns the saved row.
 */
export function saveAnswer(answers: AnswerStore, row: NewAnswer): SavedAnswer {
  const saved = answers.save(row);
  console.log(`[${row.backend}] saved answer #${saved.id} (${row.status}, ${row.chunks} chunks) for stream ${row.streamId}`);
  return saved;
}
