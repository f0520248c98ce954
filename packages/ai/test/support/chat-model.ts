// A deterministic language model for the tests (the AI SDK's own MockLanguageModelV4): an answer of
// `words` text deltas at `delayMs` each, then a call of the `weather` tool, whose result streamText
// adds. It records each call's abort signal, so a test can see the model call aborted.
import { jsonSchema, type LanguageModel, simulateReadableStream, type ToolSet, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';

export interface ChatModelOptions {
  /** Text deltas in the answer. Default 60. */
  words?: number;
  /** Pause before each stream part, ms. Default 5. */
  delayMs?: number;
}

/** The text the model answers, for comparisons. */
export const answerText = (words: number) => Array.from({ length: words }, (_, index) => `word${index} `).join('');

/** The model, its tools, and the abort signal of each call it got. */
export interface ChatModel {
  model: LanguageModel;
  tools: ToolSet;
  signals: AbortSignal[];
  words: number;
}

/** The model and what it saw. */
export function chatModel(options: ChatModelOptions = {}): ChatModel {
  const words = options.words ?? 60;
  const signals: AbortSignal[] = [];
  const model = new MockLanguageModelV4({
    doStream: async ({ abortSignal }) => {
      if (abortSignal) signals.push(abortSignal);
      const chunks = [
        { type: 'stream-start' as const, warnings: [] },
        { type: 'text-start' as const, id: 'text-1' },
        ...Array.from({ length: words }, (_, index) => ({ type: 'text-delta' as const, id: 'text-1', delta: `word${index} ` })),
        { type: 'text-end' as const, id: 'text-1' },
        { type: 'tool-call' as const, toolCallId: 'call-1', toolName: 'weather', input: JSON.stringify({ city: 'Paris' }) },
        {
          type: 'finish' as const,
          finishReason: { unified: 'tool-calls' as const, raw: undefined },
          usage: {
            inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
            outputTokens: { total: words, text: words, reasoning: 0 },
          },
        },
      ];
      return { stream: simulateReadableStream({ chunks, chunkDelayInMs: options.delayMs ?? 5, initialDelayInMs: 0 }) };
    },
  });
  const tools = {
    weather: tool({
      description: 'The weather in a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => ({ city, forecast: 'sunny', celsius: 21 }),
    }),
  } satisfies ToolSet;
  return { model, tools, signals, words };
}
