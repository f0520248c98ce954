import { readUIMessageStream, stepCountIs, streamText, type UIMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { forecastFor, weatherTool } from '../ai/weather-tool';
import { answerText, tokenize } from './deterministic-model';
import { type LanguageModelCallReport, cityOf, deterministicLanguageModel, weatherAnswerText, weatherIntro } from './language-model';

/** streamText with the page's settings, read to its last UI message with the AI SDK's own reader. */
async function answer(prompt: string, options: { tokensPerSecond?: number; abortAfterText?: number } = {}) {
  const reports: LanguageModelCallReport[] = [];
  const abort = new AbortController();
  const result = streamText({
    model: deterministicLanguageModel({ tokensPerSecond: options.tokensPerSecond ?? 5000, onCallEnd: (report) => reports.push(report) }),
    tools: { weather: weatherTool },
    stopWhen: stepCountIs(3),
    prompt,
    abortSignal: abort.signal,
  });
  let message: UIMessage | undefined;
  for await (const update of readUIMessageStream({ stream: result.toUIMessageStream() })) {
    message = update;
    const text = update.parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    if (options.abortAfterText !== undefined && text.length >= options.abortAfterText) abort.abort();
  }
  return { message: message as UIMessage, reports };
}

describe('deterministicLanguageModel', () => {
  it("answers through streamText with the built-in model's text for the same prompt", async () => {
    const { message, reports } = await answer('Why resumable streams?');
    expect(message.parts.filter((part) => part.type === 'text')).toEqual([{ type: 'text', text: answerText('Why resumable streams?'), state: 'done' }]);
    expect(reports).toEqual([{ outcome: 'completed', tokens: tokenize(answerText('Why resumable streams?')).length, toolCall: false }]);
  });

  it('answers a weather prompt with a call of the weather tool, its result, then the forecast in words', async () => {
    const prompt = 'What is the weather in Lyon?';
    const { message, reports } = await answer(prompt);
    expect(cityOf(prompt)).toBe('Lyon');
    const forecast = forecastFor('Lyon');
    expect(message.parts.filter((part) => part.type !== 'step-start')).toEqual([
      { type: 'text', text: weatherIntro('Lyon'), state: 'done' },
      expect.objectContaining({ type: 'tool-weather', toolCallId: 'call-weather-0', state: 'output-available', input: { city: 'Lyon' }, output: forecast }),
      { type: 'text', text: weatherAnswerText(prompt, forecast), state: 'done' },
    ]);
    expect(reports.map((report) => [report.outcome, report.toolCall])).toEqual([
      ['completed', true],
      ['completed', false],
    ]);
  });

  it('gives the same message to the same prompt (what the browser tests compare against)', async () => {
    const [one, two] = await Promise.all([answer('weather in Oslo, please'), answer('weather in Oslo, please')]);
    expect(two.message.parts).toEqual(one.message.parts);
  });

  it('stops at its abort signal and reports the call aborted', async () => {
    const { reports } = await answer('Stop me early', { tokensPerSecond: 400, abortAfterText: 40 });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.outcome).toBe('aborted');
    expect(reports[0]!.tokens).toBeLessThan(tokenize(answerText('Stop me early')).length / 2);
  });

  it('keeps to its pace', async () => {
    const started = performance.now();
    const { reports } = await answer('pace', { tokensPerSecond: 400 });
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(((reports[0]!.tokens - 1) / 400) * 0.9);
  });

  it('refuses a pace that is not a positive number', () => {
    expect(() => deterministicLanguageModel({ tokensPerSecond: 0 })).toThrow(/tokensPerSecond/);
  });
});
