import { describe, expect, it } from 'vitest';
import { answerText, deterministicModel, tokenize } from './deterministic-model';

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const tokens: string[] = [];
  for await (const token of iterable) tokens.push(token);
  return tokens;
}

describe('deterministicModel', () => {
  it('gives the same answer to the same prompt, and another to another prompt', async () => {
    const model = deterministicModel({ tokensPerSecond: 5000 });
    const first = await collect(model.stream('Why resumable streams?', new AbortController().signal));
    const again = await collect(model.stream('Why resumable streams?', new AbortController().signal));
    const other = await collect(model.stream('How do tokens work?', new AbortController().signal));
    expect(again).toEqual(first);
    expect(other.join('')).not.toEqual(first.join(''));
    expect(first.join('')).toBe(answerText('Why resumable streams?'));
  });

  it('cuts realistic tokens: a few characters each, and joining them gives the text back', () => {
    const text = answerText('Tell me about durable token streams');
    const tokens = tokenize(text);
    expect(tokens.join('')).toBe(text);
    const average = text.length / tokens.length;
    expect(average).toBeGreaterThan(2.5);
    expect(average).toBeLessThan(6);
    expect(Math.max(...tokens.map((token) => token.length))).toBeLessThanOrEqual(8);
    expect(tokens.length).toBeGreaterThan(150);
  });

  it('keeps to its pace', async () => {
    const model = deterministicModel({ tokensPerSecond: 400 });
    const started = performance.now();
    const tokens = await collect(model.stream('pace', new AbortController().signal));
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(((tokens.length - 1) / 400) * 0.9);
    expect(seconds).toBeLessThan((tokens.length / 400) * 1.5 + 0.2);
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const tokens: string[] = [];
    for await (const token of deterministicModel({ tokensPerSecond: 200 }).stream('stop me', controller.signal)) {
      tokens.push(token);
      if (tokens.length === 5) controller.abort();
    }
    expect(tokens).toHaveLength(5);
  });

  it('refuses a pace that is not a positive number', () => {
    expect(() => deterministicModel({ tokensPerSecond: 0 })).toThrow(/tokensPerSecond/);
    expect(() => deterministicModel({ tokensPerSecond: Number.NaN })).toThrow(/tokensPerSecond/);
  });
});
