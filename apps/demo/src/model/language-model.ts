/**
 * The demo's offline model as an AI SDK language model (specification v4), for `streamText` on the
 * AI SDK page. It answers like the built-in model (same text for the same prompt, LLM-sized tokens,
 * the same pace), and a prompt that mentions the weather gets a tool call first:
 *
 * 1. step one: a short sentence, then a call of the `weather` tool with the city from the prompt;
 * 2. step two (the prompt now ends with the tool's result): the forecast in words, then the usual
 *    answer.
 *
 * Each call reports how it ended (`completed`, or `aborted` when its abort signal fired before the
 * last token), so the app can show that Stop reached the model.
 */
import type { LanguageModel } from 'ai';
import { DEFAULT_TOKENS_PER_SECOND, answerText, tokenize } from './deterministic-model';

/** The AI SDK's language model interface, version 4 (what `ai` 7 calls). */
export type LanguageModelV4 = Extract<LanguageModel, { specificationVersion: 'v4' }>;
type CallOptions = Parameters<LanguageModelV4['doStream']>[0];
type StreamPart = Awaited<ReturnType<LanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer Part> ? Part : never;
type PromptMessage = CallOptions['prompt'][number];

/** How one model call ended. */
export interface LanguageModelCallReport {
  /** `aborted`: the call's abort signal fired before its last token; the model stopped there. */
  outcome: 'completed' | 'aborted';
  /** Text tokens the call streamed. */
  tokens: number;
  /** Whether the call was the tool-calling step. */
  toolCall: boolean;
}

/** Options of {@link deterministicLanguageModel}. */
export interface DeterministicLanguageModelOptions {
  /** Pace, in tokens per second. Default {@link DEFAULT_TOKENS_PER_SECOND}. */
  tokensPerSecond?: number;
  /** Called once per call, when its stream ended or was aborted. */
  onCallEnd?: (report: LanguageModelCallReport) => void;
}

/** The tool the model calls for a weather prompt. */
export const WEATHER_TOOL_NAME = 'weather';

/**
 * @param prompt - what the user asked.
 * @returns whether the model answers it with a call of the weather tool.
 */
export function asksForWeather(prompt: string): boolean {
  return /\bweather\b/i.test(prompt);
}

/**
 * The city a weather prompt names ("…weather in Lyon?"), else Paris.
 * @param prompt - what the user asked.
 * @returns the city, as written.
 */
export function cityOf(prompt: string): string {
  const match = /\b(?:in|for|at)\s+(\p{Lu}[\p{L}'-]*(?:\s+\p{Lu}[\p{L}'-]*)*)/u.exec(prompt);
  return match?.[1] ?? 'Paris';
}

/** The sentence that opens a weather answer, before the tool call. */
export const weatherIntro = (city: string) => `Let me look up the weather in ${city} first.`;

/** The forecast a weather tool result reads as (the tool's output, see weather-tool.ts). */
export interface Forecast {
  city: string;
  forecast: string;
  celsius: number;
}

/**
 * The text of the step after the tool call: the forecast in words, then the prompt's usual answer.
 * @param prompt - what the user asked.
 * @param forecast - the tool's result.
 * @returns the text.
 */
export function weatherAnswerText(prompt: string, forecast: Forecast): string {
  return `In ${forecast.city} it is ${forecast.forecast} and ${forecast.celsius} °C right now.\n\n${answerText(prompt)}`;
}

function textOfMessage(message: PromptMessage): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
}

/** The last user message's text, and the tool result that follows it, if any. */
function readPrompt(prompt: CallOptions['prompt']): { question: string; toolResult: Forecast | undefined } {
  const lastUser = prompt.findLastIndex((message) => message.role === 'user');
  const question = lastUser === -1 ? '' : textOfMessage(prompt[lastUser]!);
  let toolResult: Forecast | undefined;
  for (const message of prompt.slice(lastUser + 1)) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'tool-result' && part.toolName === WEATHER_TOOL_NAME && part.output.type === 'json') toolResult = part.output.value as unknown as Forecast;
    }
  }
  return { question, toolResult };
}

/** The parts of one call, before pacing: text tokens, then maybe a tool call. */
function script(options: CallOptions): { tokens: string[]; toolCall?: { city: string } } {
  const { question, toolResult } = readPrompt(options.prompt);
  const toolOffered = options.tools?.some((tool) => tool.name === WEATHER_TOOL_NAME) ?? false;
  if (toolOffered && asksForWeather(question)) {
    const city = cityOf(question);
    if (toolResult === undefined) return { tokens: tokenize(weatherIntro(city)), toolCall: { city } };
    return { tokens: tokenize(weatherAnswerText(question, toolResult)) };
  }
  return { tokens: tokenize(answerText(question)) };
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The model call was aborted.', 'AbortError');
}

/**
 * The demo's deterministic model for `streamText`: offline, paced, with a tool call for weather
 * prompts (when the `weather` tool is offered).
 * @param options - `tokensPerSecond` (default 40), `onCallEnd`.
 * @returns an AI SDK language model.
 * @example
 * ```ts
 * const result = streamText({ model: deterministicLanguageModel({ tokensPerSecond: 200 }), prompt: 'Why resumable streams?' })
 * ```
 */
export function deterministicLanguageModel(options: DeterministicLanguageModelOptions = {}): LanguageModelV4 {
  const tokensPerSecond = options.tokensPerSecond ?? DEFAULT_TOKENS_PER_SECOND;
  if (!(Number.isFinite(tokensPerSecond) && tokensPerSecond > 0)) {
    throw new RangeError(`tokensPerSecond must be a number above 0, got ${String(tokensPerSecond)}.`);
  }
  const interval = 1000 / tokensPerSecond;
  return {
    specificationVersion: 'v4',
    provider: 'streamstraight-demo',
    modelId: `deterministic-${tokensPerSecond}`,
    supportedUrls: {},
    doGenerate() {
      return Promise.reject(new Error('The demo model only streams: use streamText.'));
    },
    async doStream(callOptions) {
      const { tokens, toolCall } = script(callOptions);
      const signal = callOptions.abortSignal;
      const parts: StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'text-start', id: 'text-0' },
        ...tokens.map((delta): StreamPart => ({ type: 'text-delta', id: 'text-0', delta })),
        { type: 'text-end', id: 'text-0' },
        ...(toolCall ? [{ type: 'tool-call', toolCallId: 'call-weather-0', toolName: WEATHER_TOOL_NAME, input: JSON.stringify(toolCall) } satisfies StreamPart] : []),
        {
          type: 'finish',
          finishReason: { unified: toolCall ? 'tool-calls' : 'stop', raw: undefined },
          usage: {
            inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
            outputTokens: { total: tokens.length, text: tokens.length, reasoning: 0 },
          },
        },
      ];
      let next = 0;
      let streamed = 0;
      let reported = false;
      const report = (outcome: LanguageModelCallReport['outcome']) => {
        if (reported) return;
        reported = true;
        signal?.removeEventListener('abort', onAbort);
        options.onCallEnd?.({ outcome, tokens: streamed, toolCall: toolCall !== undefined });
      };
      let fail: ((reason: unknown) => void) | undefined;
      const onAbort = () => {
        report('aborted');
        fail?.(abortError(signal as AbortSignal));
      };
      const start = performance.now();
      const stream = new ReadableStream<StreamPart>({
        start(controller) {
          fail = (reason) => {
            try {
              controller.error(reason);
            } catch {
              // already closed
            }
          };
          if (signal?.aborted) onAbort();
          else signal?.addEventListener('abort', onAbort, { once: true });
        },
        async pull(controller) {
          const part = parts[next];
          if (part === undefined) return;
          if (part.type === 'text-delta') {
            // Keep to the schedule (start + n × interval) so timer slack does not add up.
            const wait = start + streamed * interval - performance.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            if (reported) return; // aborted while waiting
            streamed++;
          }
          next++;
          controller.enqueue(part);
          if (next === parts.length) {
            report('completed');
            controller.close();
          }
        },
        cancel() {
          report('aborted'); // stopped before its last part
        },
      });
      return { stream };
    },
  };
}
