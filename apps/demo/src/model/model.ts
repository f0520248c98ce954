/**
 * What the demo's chat routes stream from: the built-in deterministic model, or a real
 * OpenAI-compatible one when `OPENAI_API_KEY` is set.
 */
import { deterministicModel } from './deterministic-model';
import { openAiModel } from './openai-model';

/** A text generator: `stream()` yields the answer in pieces and stops when `signal` aborts. */
export interface Model {
  /** Shown at startup and on the page. */
  readonly name: string;
  /**
   * Streams the answer to `prompt`. Breaking out of the iteration (the adapter's `return()` when a
   * reader presses Stop) stops the generation, and so does `signal`.
   * @param prompt - what the user asked.
   * @param signal - optional: aborts the generation.
   */
  stream(prompt: string, signal?: AbortSignal): AsyncIterable<string>;
}

/** Environment variables the model is chosen from: `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`, `DEMO_TOKENS_PER_SECOND`. */
export type ModelEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Picks the model: OpenAI-compatible when `OPENAI_API_KEY` is set, else the built-in one paced at
 * `DEMO_TOKENS_PER_SECOND` (default 40).
 * @param environment - usually `process.env`.
 * @returns the model.
 * @example
 * ```ts
 * const model = modelFromEnvironment(process.env)
 * ```
 */
export function modelFromEnvironment(environment: ModelEnvironment): Model {
  if (environment.OPENAI_API_KEY) {
    return openAiModel({
      apiKey: environment.OPENAI_API_KEY,
      baseURL: environment.OPENAI_BASE_URL || undefined,
      model: environment.OPENAI_MODEL || undefined,
    });
  }
  const pace = environment.DEMO_TOKENS_PER_SECOND;
  return deterministicModel({ tokensPerSecond: pace ? Number(pace) : undefined });
}
