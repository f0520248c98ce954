/**
 * Which language model the AI SDK page's `streamText` calls: the demo's deterministic one
 * (offline, with a tool call for weather prompts), or a real one through `@ai-sdk/openai` when
 * `OPENAI_API_KEY` is set (`OPENAI_BASE_URL` for any OpenAI-compatible server, `OPENAI_MODEL`).
 */
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { DEFAULT_OPENAI_MODEL } from '../model/openai-model';
import { type LanguageModelCallReport, deterministicLanguageModel } from '../model/language-model';
import type { ModelEnvironment } from '../model/model';

/** The page's model: its display name, and a model per request (so each call can report how it ended). */
export interface AiModel {
  readonly name: string;
  /**
   * @param onCallEnd - told how each model call ended (the built-in model only; a real provider is not observed).
   * @returns the model for one `streamText` call.
   */
  create(onCallEnd: (report: LanguageModelCallReport) => void): LanguageModel;
}

/**
 * Picks the page's model from the environment, as `modelFromEnvironment` does for the other pages.
 * @param environment - usually `process.env`.
 * @returns the model.
 * @example
 * ```ts
 * const model = aiModelFromEnvironment(process.env).create((report) => console.log(report.outcome))
 * ```
 */
export function aiModelFromEnvironment(environment: ModelEnvironment): AiModel {
  if (environment.OPENAI_API_KEY) {
    const baseURL = environment.OPENAI_BASE_URL || undefined;
    const modelId = environment.OPENAI_MODEL || DEFAULT_OPENAI_MODEL;
    // Chat Completions, which every OpenAI-compatible server speaks.
    const model = createOpenAI({ apiKey: environment.OPENAI_API_KEY, baseURL }).chat(modelId);
    return { name: `${modelId} via ${baseURL ?? 'OpenAI'} (@ai-sdk/openai)`, create: () => model };
  }
  const pace = environment.DEMO_TOKENS_PER_SECOND;
  const tokensPerSecond = pace ? Number(pace) : undefined;
  return {
    name: `built-in (deterministic, ${tokensPerSecond ?? 40} tokens/s, a weather tool)`,
    create: (onCallEnd) => deterministicLanguageModel({ tokensPerSecond, onCallEnd }),
  };
}
