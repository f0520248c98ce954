/**
 * What the Next.js app's route handlers (app/api/*) share: settings from the environment the
 * launcher set, the model, and the app's "database". Kept on `globalThis` because Next.js may
 * bundle each route separately: one store for all of them.
 */
import { type AiModel, aiModelFromEnvironment } from '../ai/ai-model';
import { AiChatStore } from '../ai/ai-chat-store';
import { AnswerStore } from '../answers/answer-store';
import { type Model, modelFromEnvironment } from '../model/model';

/** The Next.js app's shared state. */
export interface NextBackend {
  /** `SS_API_KEY`. */
  apiKey: string;
  /** `STREAMSTRAIGHT_API_BASE_URL`: the relay as this server reaches it. */
  relayUrl: string;
  model: Model;
  answers: AnswerStore;
  /** The AI SDK page's model (`streamText`). */
  aiModel: AiModel;
  /** The AI SDK page's chats: messages, active stream ids, what happened to each answer. */
  aiChats: AiChatStore;
}

const KEY = Symbol.for('streamstraight-demo.next-backend');

/**
 * @returns the Next.js app's shared state, created on first use.
 * @throws Error when `SS_API_KEY` is not set (start the demo with `pnpm demo`).
 */
export function nextBackend(): NextBackend {
  const holder = globalThis as { [KEY]?: NextBackend };
  if (holder[KEY] === undefined) {
    const apiKey = process.env.SS_API_KEY;
    if (!apiKey) throw new Error('SS_API_KEY is not set: start the demo with `pnpm demo` (it sets it), or set it to the relay API key.');
    holder[KEY] = {
      apiKey,
      relayUrl: process.env.STREAMSTRAIGHT_API_BASE_URL ?? 'http://127.0.0.1:8787',
      model: modelFromEnvironment(process.env),
      answers: new AnswerStore(),
      aiModel: aiModelFromEnvironment(process.env),
      aiChats: new AiChatStore(),
    };
  }
  return holder[KEY];
}
