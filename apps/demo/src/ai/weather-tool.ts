/**
 * The AI SDK page's one tool: a made-up, deterministic weather lookup (the same city always gets
 * the same forecast), so the answer to a weather prompt holds a tool call with its result — a part
 * that is not text, which a resumed answer must carry too.
 */
import { type Tool, jsonSchema, tool } from 'ai';
import type { Forecast } from '../model/language-model';

/** How long the lookup takes, in ms: long enough to see the tool call before its result. */
export const WEATHER_LOOKUP_MS = 400;

const FORECASTS = ['sunny', 'partly cloudy', 'overcast', 'light rain', 'windy', 'foggy'];

/** A small stable hash of the city name. */
function hash(text: string): number {
  let value = 0;
  for (const character of text.toLowerCase()) value = (Math.imul(value, 31) + (character.codePointAt(0) ?? 0)) >>> 0;
  return value;
}

/**
 * The forecast the tool answers for a city.
 * @param city - a city name.
 * @returns the same forecast for the same city (any letter case).
 */
export function forecastFor(city: string): Forecast {
  const seed = hash(city.trim());
  return { city: city.trim(), forecast: FORECASTS[seed % FORECASTS.length]!, celsius: 4 + (seed % 23) };
}

/**
 * The `weather` tool for `streamText({ tools: { weather: weatherTool } })`.
 * @example
 * ```ts
 * streamText({ model, tools: { weather: weatherTool }, stopWhen: stepCountIs(3), messages })
 * ```
 */
export const weatherTool: Tool<{ city: string }, Forecast> = tool({
  description: 'The current weather in a city.',
  inputSchema: jsonSchema<{ city: string }>({
    type: 'object',
    properties: { city: { type: 'string', description: 'The city, for example "Paris".' } },
    required: ['city'],
    additionalProperties: false,
  }),
  execute: async ({ city }, { abortSignal }) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WEATHER_LOOKUP_MS);
      abortSignal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    return forecastFor(city);
  },
});
