/**
 * A real model through the `openai` SDK: OpenAI itself, or any OpenAI-compatible server
 * (`OPENAI_BASE_URL`: vLLM, Ollama, LM Studio, a gateway…).
 */
import OpenAI from 'openai';
import type { Model } from './model';

/** Default model name when `OPENAI_MODEL` is not set. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** Options of {@link openAiModel}. */
export interface OpenAiModelOptions {
  /** The API key. */
  apiKey: string;
  /** An OpenAI-compatible base URL. Default: OpenAI's. */
  baseURL?: string | undefined;
  /** The model name. Default {@link DEFAULT_OPENAI_MODEL}. */
  model?: string | undefined;
}

/**
 * A chat-completions model, streamed; `signal` aborts the HTTP call to the model.
 * @param options - `apiKey`, `baseURL`, `model`.
 * @returns a {@link Model}.
 * @example
 * ```ts
 * const model = openAiModel({ apiKey: process.env.OPENAI_API_KEY! })
 * ```
 */
export function openAiModel(options: OpenAiModelOptions): Model {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL });
  const model = options.model ?? DEFAULT_OPENAI_MODEL;
  return {
    name: `${model} via ${options.baseURL ?? 'OpenAI'}`,
    async *stream(prompt, signal) {
      const completion = await client.chat.completions.create(
        {
          model,
          stream: true,
          messages: [
            { role: 'system', content: 'You are a helpful assistant. Answer in plain text, a few short paragraphs.' },
            { role: 'user', content: prompt },
          ],
        },
        { signal },
      );
      for await (const part of completion) {
        const text = part.choices[0]?.delta?.content;
        if (text) yield text;
      }
    },
  };
}
